import { randomUUID } from 'node:crypto';
import { GtbError } from '@gtb/errors';
import { withLuaCommands, type LuaCommand, type RedisClient } from '@gtb/redis';
import type { Result } from 'ioredis';

// Release must delete the key only if we still own it: a plain DEL after our TTL ran out would
// delete the next holder's lock. GET and DEL run atomically inside one script, on one key, so it
// also works in Cluster.
const RELEASE: LuaCommand = { name: 'gtbLockRelease', numberOfKeys: 1, lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0` };

// Extend likewise only moves our own lock's expiry; someone else's lock is left alone.
const EXTEND: LuaCommand = { name: 'gtbLockExtend', numberOfKeys: 1, lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0` };

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** RELEASE: 1 when our lock was deleted, 0 when it was not ours (any more). */
    gtbLockRelease(key: string, owner: string): Result<number, Context>;
    /** EXTEND: 1 when our lock's expiry moved, 0 when it was not ours (any more). */
    gtbLockExtend(key: string, owner: string, ttlMs: number): Result<number, Context>;
  }
}

/** A held lock. Both methods resolve false when the lock was no longer ours. */
export interface LockHandle {
  key: string;
  owner: string;
  /** When the lock lapses unless extended (the injected clock's ms). */
  expiresAt: number;
  release(): Promise<boolean>;
  extend(ttlMs: number): Promise<boolean>;
}

export interface DistributedLockOptions {
  redis: RedisClient;
  now?: () => number;
  /** Source of owner ids; must be unique across processes (defaults to a random UUID). */
  random?: () => string;
}

/** A lock shared by every replica through one Redis key. */
export interface DistributedLock {
  /** `SET key owner NX PX ttl`: the handle, or null when someone else holds it. */
  acquire(key: string, ttlMs: number): Promise<LockHandle | null>;
}

/** Builds the lock (the broker's mint lock: docs/architecture.md § Token path). */
export function createDistributedLock(options: DistributedLockOptions): DistributedLock {
  const redis = withLuaCommands(options.redis, RELEASE, EXTEND);
  const now = options.now ?? Date.now;
  const newOwner = options.random ?? randomUUID;

  return {
    async acquire(key, ttlMs) {
      assertTtl(ttlMs);
      const owner = newOwner();
      const ok = await redis.set(key, owner, 'PX', Math.ceil(ttlMs), 'NX');
      if (ok !== 'OK') return null;
      const handle: LockHandle = {
        key,
        owner,
        expiresAt: now() + ttlMs,
        async release() {
          return (await redis.gtbLockRelease(key, owner)) === 1;
        },
        async extend(extendMs) {
          assertTtl(extendMs);
          const extended = (await redis.gtbLockExtend(key, owner, Math.ceil(extendMs))) === 1;
          if (extended) handle.expiresAt = now() + extendMs;
          return extended;
        },
      };
      return handle;
    },
  };
}

function assertTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs < 1) throw new GtbError('ERR_VALIDATION', 'lock ttlMs must be a positive number');
}
