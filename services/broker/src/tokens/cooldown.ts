import type { RedisClient, Keys } from '@gtb/redis';
import { guardRedis } from './redis-guard.js';

export interface CooldownOptions {
  /** First backoff when the upstream throttles without Retry-After (2 s); doubles per streak. */
  baseMs: number;
  /** Longest backoff (60 s). */
  maxMs: number;
}

export const DEFAULT_COOLDOWN: CooldownOptions = { baseMs: 2_000, maxMs: 60_000 };

/**
 * The cluster-wide upstream cooldown of a profile (`keys.cooldown(p)`, docs/architecture.md § Cooldown): while the
 * key lives, no replica calls the login host for that profile. Its PTTL is the remaining wait.
 */
export function createCooldown(deps: { redis: RedisClient; keys: Keys; redisTimeoutMs: number; options: CooldownOptions }) {
  const { redis, keys, redisTimeoutMs, options } = deps;
  // Consecutive throttles per profile without Retry-After, for the exponential backoff. Per process:
  // the replica that got throttled is the one that sets the key.
  const streaks = new Map<string, number>();

  return {
    /** Remaining cooldown in ms, 0 when none. */
    async remainingMs(profile: string): Promise<number> {
      const pttl = await guardRedis(() => redis.pttl(keys.cooldown(profile)), redisTimeoutMs, 'PTTL cooldown');
      return pttl > 0 ? pttl : 0;
    },
    /** Starts a cooldown for `retryAfterSeconds`, or a backoff when the upstream gave none; returns its ms. */
    async start(profile: string, retryAfterSeconds: number | undefined): Promise<number> {
      const streak = (streaks.get(profile) ?? 0) + 1;
      streaks.set(profile, streak);
      const ms = retryAfterSeconds !== undefined && retryAfterSeconds > 0
        ? retryAfterSeconds * 1000
        : Math.min(options.maxMs, options.baseMs * 2 ** (streak - 1));
      await guardRedis(() => redis.set(keys.cooldown(profile), String(ms), 'PX', Math.ceil(ms)), redisTimeoutMs, 'SET cooldown');
      return ms;
    },
    /** A successful mint ends the backoff streak. */
    reset(profile: string): void {
      streaks.delete(profile);
    },
  };
}

export type Cooldown = ReturnType<typeof createCooldown>;
