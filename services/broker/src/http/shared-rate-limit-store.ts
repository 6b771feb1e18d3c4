import type { Store, Options, ClientRateLimitInfo } from 'express-rate-limit';
import type { Result } from 'ioredis';
import { withLuaCommands, type Keys, type LuaCommand, type RedisClient } from '@gtb/redis';
import type { Logger } from '@gtb/logger';
import { guardRedis } from '../tokens/redis-guard.js';

// Adds this replica's hits since its last sync to the caller's shared count for the window, and
// starts the window's expiry on its first hit; returns the shared total. One key: Cluster-safe.
const SYNC: LuaCommand = { name: 'gtbRateLimitSync', numberOfKeys: 1, lua: `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if total == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return total` };

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** SYNC: adds `hits` to the window's count (expiring it after `ttlMs` from its first hit); the new total. */
    gtbRateLimitSync(key: string, hits: number, ttlMs: number): Result<number, Context>;
  }
}

interface Entry {
  window: number;
  /** The shared total at the last sync (this replica's flushed hits included). */
  synced: number;
  /** Hits counted here and not yet added to Redis. */
  pending: number;
  lastSync: number;
  syncing?: Promise<void> | undefined;
}

/** The store's extra for the hit path (http/token-fast-path.ts): counting without awaiting anything. */
export interface LocalHitStore extends Store {
  /**
   * Counts one hit for `key` and returns the caller's figures, when that can be decided here and now:
   * the count was synced within `syncMs` and one more hit stays within `limit`. Otherwise counts
   * nothing and returns undefined; the caller then uses `increment`, which syncs first.
   */
  tryHit(key: string, limit: number): ClientRateLimitInfo | undefined;
  /** Counts one hit, syncing with Redis first when the caller's count is stale; never rejects. */
  increment(key: string): Promise<ClientRateLimitInfo>;
}

/** True when `store` can count on the hit path (the shared store can; express-rate-limit's memory store cannot). */
export function isLocalHitStore(store: Store | undefined): store is LocalHitStore {
  return typeof (store as Partial<LocalHitStore> | undefined)?.tryHit === 'function';
}

export interface SharedRateLimitStoreOptions {
  redis: RedisClient;
  /** The key of a caller's count in one window is `keys.rateLimit(caller, window)`. */
  keys: Keys;
  /** A caller's count is re-read from Redis at most this often per replica (default 100 ms). */
  syncMs?: number;
  /** How long a request waits for a sync before counting locally (default 500 ms). */
  syncTimeoutMs?: number;
  logger?: Logger;
  now?: () => number;
}

/**
 * A fixed-window counter shared by all replicas through Redis, for express-rate-limit. Written here
 * rather than taken from rate-limit-redis because that store makes one Redis round trip per request,
 * the largest cost on the hit path after Express itself: this one counts locally and syncs a
 * caller's count with Redis at most every `syncMs` (the request that finds the count stale waits
 * for the sync, so sparse traffic is counted exactly). The price: under a burst, each replica may
 * admit up to `syncMs` worth of a caller's requests on a count that is that old. While Redis is
 * down the limit fails open per replica (counts stay local) and says so once in 30 s.
 */
export function createSharedRateLimitStore(options: SharedRateLimitStoreOptions): LocalHitStore {
  const { keys, syncMs = 100, syncTimeoutMs = 500, logger, now = Date.now } = options;
  const redis = withLuaCommands(options.redis, SYNC);
  const entries = new Map<string, Entry>();
  let windowMs = 60_000;
  let lastWarned = 0;

  function entryOf(key: string, t: number): Entry {
    const window = Math.floor(t / windowMs);
    let entry = entries.get(key);
    if (!entry || entry.window !== window) {
      entry = { window, synced: 0, pending: 0, lastSync: -Infinity };
      entries.set(key, entry);
    }
    return entry;
  }

  async function sync(key: string, entry: Entry): Promise<void> {
    const n = entry.pending;
    entry.pending = 0;
    try {
      // Bounded: a Redis that accepts commands but never answers (paused, half-open connection)
      // would otherwise hold every request of the caller here, with no error and no answer.
      const window = keys.rateLimit(key, entry.window);
      entry.synced = Number(await guardRedis(() => redis.gtbRateLimitSync(window, n, windowMs + 1000), syncTimeoutMs, 'rate limit sync'));
    } catch (err) {
      entry.synced += n; // fail open: keep counting here
      if (now() - lastWarned > 30_000) {
        lastWarned = now();
        logger?.warn({ err: (err as Error).message }, 'per-caller rate limit cannot reach Redis; counting per replica meanwhile');
      }
    } finally {
      entry.lastSync = now();
    }
  }

  return {
    prefix: `${keys.prefix}:rl:`,
    localKeys: false,
    init(opts: Options) {
      windowMs = opts.windowMs;
      // Old windows' entries are dropped as the map is swept once a window.
      const sweep = setInterval(() => {
        const current = Math.floor(now() / windowMs);
        for (const [key, entry] of entries) if (entry.window < current) entries.delete(key);
      }, windowMs);
      sweep.unref();
    },
    async increment(key: string): Promise<ClientRateLimitInfo> {
      const t = now();
      const entry = entryOf(key, t);
      entry.pending += 1;
      if (t - entry.lastSync >= syncMs) {
        entry.syncing ??= sync(key, entry).finally(() => { entry.syncing = undefined; });
        await entry.syncing;
      }
      return { totalHits: entry.synced + entry.pending, resetTime: new Date((entry.window + 1) * windowMs) };
    },
    tryHit(key: string, limit: number): ClientRateLimitInfo | undefined {
      const t = now();
      const entry = entries.get(key);
      if (!entry || entry.syncing || entry.window !== Math.floor(t / windowMs) || t - entry.lastSync >= syncMs) return undefined;
      if (entry.synced + entry.pending + 1 > limit) return undefined;
      entry.pending += 1;
      return { totalHits: entry.synced + entry.pending, resetTime: new Date((entry.window + 1) * windowMs) };
    },
    async decrement(key: string): Promise<void> {
      const entry = entries.get(key);
      if (entry && entry.pending > 0) entry.pending -= 1;
    },
    async resetKey(key: string): Promise<void> {
      const entry = entries.get(key);
      entries.delete(key);
      if (entry) await redis.del(keys.rateLimit(key, entry.window)).catch(() => undefined);
    },
  };
}
