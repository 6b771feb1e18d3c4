import type { Logger } from '@gtb/logger';
import type { Keys, RedisClient } from '@gtb/redis';
import { fencedWrite, readFenced } from '@gtb/lock';
import { isGtbError } from '@gtb/errors';
import { inSpan, tracerOf } from '@gtb/tracing';
import type { KeyRing } from './key-ring.js';
import type { CachedToken } from './types.js';
import { guardRedis } from './redis-guard.js';

const tracer = tracerOf('gtb.broker');

/**
 * The shared cache (L2): `keys.token(p)` is a hash `{fence, value}` written by the fenced write;
 * `value` is the whole token record encrypted with the key ring, with the key name as AAD so a
 * ciphertext copied to another profile's key does not decrypt. Nothing in Redis is plaintext.
 */
export function createL2Store(deps: { redis: RedisClient; keys: Keys; keyRing: KeyRing; logger: Logger; redisTimeoutMs: number }) {
  const { redis, keys, keyRing, logger, redisTimeoutMs } = deps;

  async function readStored(profile: string): Promise<CachedToken | null> {
    const key = keys.token(profile);
    const stored = await guardRedis(() => readFenced(redis, key), redisTimeoutMs, 'read token');
    if (!stored) return null;
    try {
      const record = JSON.parse(keyRing.decrypt(stored.value, key)) as Omit<CachedToken, 'fence' | 'profile'>;
      if (typeof record.accessToken !== 'string' || typeof record.expiresAt !== 'number' || typeof record.refreshAt !== 'number') {
        logger.warn({ profile }, 'cached token record has an unexpected shape; treating it as a miss');
        return null;
      }
      return { ...record, profile, fence: stored.fence };
    } catch (err) {
      // A rotated-out key or a tampered value: the next mint overwrites it with a newer fence.
      logger.warn({ profile, fence: stored.fence, code: isGtbError(err) ? err.code : 'ERR_DECRYPT' }, 'cached token could not be decrypted; treating it as a miss');
      return null;
    }
  }

  return {
    /** The stored token, or null when none, unreadable or undecryptable (treated as a miss). */
    read(profile: string): Promise<CachedToken | null> {
      return inSpan(tracer, 'gtb.token.l2_read', { attributes: { 'gtb.profile': profile } }, async (span) => {
        const token = await readStored(profile);
        span.setAttribute('gtb.l2.hit', token !== null);
        if (token) span.setAttributes({ 'gtb.fence': token.fence, 'gtb.token.fingerprint': token.fingerprint });
        return token;
      });
    },
    /** The fence stored with the current token (0 when none). */
    async fence(profile: string): Promise<number> {
      const value = await guardRedis(() => redis.hget(keys.token(profile), 'fence'), redisTimeoutMs, 'read fence');
      const n = Number(value ?? 0);
      return Number.isSafeInteger(n) ? n : 0;
    },
    /** Writes through the fenced write; false when a newer fence was already stored. */
    async write(token: CachedToken, ttlMs: number): Promise<boolean> {
      const key = keys.token(token.profile);
      const { profile: _p, fence: _f, ...record } = token;
      const value = keyRing.encrypt(JSON.stringify(record), key);
      return guardRedis(
        () => fencedWrite(redis, { dataKey: key, fenceKey: keys.fence(token.profile), value, fence: token.fence, ttlMs }),
        redisTimeoutMs,
        'write token',
      );
    },
    /** Deletes the token; the fence counter stays so that fences keep increasing. */
    async purge(profile: string): Promise<void> {
      await guardRedis(() => redis.del(keys.token(profile)), redisTimeoutMs, 'purge token');
    },
  };
}

export type L2Store = ReturnType<typeof createL2Store>;
