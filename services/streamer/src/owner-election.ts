import { randomUUID } from 'node:crypto';
import { createDistributedLock, nextFence, type LockHandle } from '@gtb/lock';
import type { Logger } from '@gtb/logger';
import type { Keys, RedisClient } from '@gtb/redis';

export interface OwnerElectionOptions {
  redis: RedisClient;
  keys: Keys;
  stream: string;
  instanceId: string;
  /** The lock's TTL: a dead owner is replaced at most this long (plus one poll) after its last extend. */
  ttlMs: number;
  now: () => number;
  logger: Logger;
  onAcquired(fence: number): void | Promise<void>;
  onLost(reason: string): void | Promise<void>;
}

/** The active-passive owner lock of one stream (`keys.owner(stream)`), with a fencing number. */
export interface OwnerElection {
  isOwner(): boolean;
  fence(): number | undefined;
  /** Gives the stream up (release the lock); a standby then takes over without waiting for the TTL. */
  stop(): Promise<void>;
}

/**
 * Polls every ttl/3: a standby tries `SET NX PX`, the owner extends. On acquiring, the owner takes
 * the next fence (`INCR keys.ownerFence`): its writes carry it, and the write script refuses a
 * fence older than the counter, so a paused ex-owner cannot write after a takeover. The owner steps
 * down by itself when it cannot extend before its lock would have lapsed.
 */
export function startOwnerElection(options: OwnerElectionOptions): OwnerElection {
  const { redis, keys, stream, ttlMs, now, logger } = options;
  const log = logger.child({ component: 'owner-election', stream });
  const lock = createDistributedLock({ redis, now, random: () => `${options.instanceId}#${randomUUID()}` });
  let handle: LockHandle | undefined;
  let fence: number | undefined;
  let stopped = false;
  let busy = false;
  const pollMs = Math.max(50, Math.floor(ttlMs / 3));

  async function lose(reason: string): Promise<void> {
    handle = undefined;
    fence = undefined;
    log.warn({ reason }, 'stream ownership lost');
    await options.onLost(reason);
  }

  async function tick(): Promise<void> {
    if (busy || stopped) return;
    busy = true;
    try {
      if (!handle) {
        const acquired = await lock.acquire(keys.owner(stream), ttlMs);
        if (acquired) {
          try {
            fence = await nextFence(redis, keys.ownerFence(stream));
          } catch (err) {
            await acquired.release().catch(() => false);
            throw err;
          }
          handle = acquired;
          log.info({ fence }, 'stream ownership acquired');
          await options.onAcquired(fence);
        }
      } else {
        const h = handle;
        let ok = false;
        try {
          ok = await h.extend(ttlMs);
        } catch (err) {
          // Redis unreachable: keep running while the lock cannot have lapsed yet.
          if (now() < h.expiresAt - pollMs) return;
          log.warn({ err: (err as Error).message }, 'cannot extend the owner lock');
        }
        if (!ok) await lose('owner lock lapsed or taken');
      }
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'owner election round failed');
    } finally {
      busy = false;
    }
  }

  const timer = setInterval(() => { void tick(); }, pollMs);
  timer.unref();
  void tick();

  return {
    isOwner: () => handle !== undefined,
    fence: () => fence,
    async stop() {
      stopped = true;
      clearInterval(timer);
      const h = handle;
      handle = undefined;
      if (h) await h.release().catch(() => false);
    },
  };
}
