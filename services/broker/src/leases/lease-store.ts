import { randomUUID } from 'node:crypto';
import { GtbError } from '@gtb/errors';
import type { Keys, RedisClient } from '@gtb/redis';

/** A live claim of a long-lived consumer (a streamer) on a profile's token. */
export interface Lease {
  id: string;
  profile: string;
  holder: string;
  /** `issuer|subject` of the identity that took the lease: only it (or an admin) may renew or release. */
  owner: string;
  grantedAt: number;
  renewedAt: number;
  expiresAt: number;
  ttlMs: number;
}

/** The data of a `lease.*` lifecycle event; `fingerprint` is the token handed out with the lease, when one was. */
export function leaseEventData(lease: Lease, fingerprint?: string) {
  return {
    leaseId: lease.id, profile: lease.profile, holder: lease.holder,
    leaseExpiresAt: new Date(lease.expiresAt).toISOString(),
    ...(fingerprint === undefined ? {} : { fingerprint }),
  };
}

export interface LeaseStoreOptions {
  redis: RedisClient;
  keys: Keys;
  now?: () => number;
  defaultTtlMs?: number;
  maxTtlMs?: number;
}

// Renews only while the lease is still in the profile's live set with a future expiry, atomically,
// so a renew can never resurrect a lease the sweeper has already expired (ZREM wins, renew fails).
const RENEW_SCRIPT = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5])
return 1`;

/** Redis-backed leases: a sorted set of live lease ids per profile (score = expiry) plus a record each. */
export function createLeaseStore(options: LeaseStoreOptions) {
  const { redis, keys, now = Date.now, defaultTtlMs = 60_000, maxTtlMs = 10 * 60_000 } = options;
  // Records outlive their expiry a little so that the sweeper can still say who held them.
  const recordTtl = (ttlMs: number) => ttlMs + 5 * 60_000;

  function ttlOf(requested: number | undefined): number {
    if (requested === undefined) return defaultTtlMs;
    if (!Number.isInteger(requested) || requested < 1000 || requested > maxTtlMs) {
      throw new GtbError('ERR_VALIDATION', `ttl_seconds must be a whole number between 1 and ${maxTtlMs / 1000}`);
    }
    return requested;
  }

  async function read(id: string): Promise<Lease | null> {
    const profile = await redis.hget(keys.leaseIndex(), id);
    if (!profile) return null;
    const raw = await redis.get(keys.lease(profile, id));
    return raw ? (JSON.parse(raw) as Lease) : null;
  }

  return {
    /** Grants a new lease. */
    async grant(profile: string, holder: string, owner: string, ttlMs?: number): Promise<Lease> {
      const ttl = ttlOf(ttlMs);
      const t = now();
      const lease: Lease = { id: randomUUID(), profile, holder, owner, grantedAt: t, renewedAt: t, expiresAt: t + ttl, ttlMs: ttl };
      await redis
        .multi()
        .set(keys.lease(profile, lease.id), JSON.stringify(lease), 'PX', recordTtl(ttl))
        .zadd(keys.leases(profile), lease.expiresAt, lease.id)
        .exec();
      await redis.hset(keys.leaseIndex(), lease.id, profile);
      return lease;
    },

    /** Extends a live lease by its ttl; ERR_LEASE_NOT_FOUND when unknown or already expired. */
    async renew(id: string): Promise<Lease> {
      const lease = await read(id);
      if (!lease) throw new GtbError('ERR_LEASE_NOT_FOUND', 'no such lease');
      const t = now();
      const next: Lease = { ...lease, renewedAt: t, expiresAt: t + lease.ttlMs };
      const ok = await redis.eval(RENEW_SCRIPT, 2, keys.leases(lease.profile), keys.lease(lease.profile, id),
        id, String(t), String(next.expiresAt), JSON.stringify(next), String(recordTtl(lease.ttlMs)));
      if (ok !== 1) throw new GtbError('ERR_LEASE_NOT_FOUND', 'the lease has expired');
      return next;
    },

    /** Looks a lease up (live or recently expired). */
    get: read,

    /** Releases a lease; true when it was live. */
    async release(id: string): Promise<Lease | null> {
      const lease = await read(id);
      if (!lease) return null;
      const removed = await redis.zrem(keys.leases(lease.profile), id);
      await redis.del(keys.lease(lease.profile, id));
      await redis.hdel(keys.leaseIndex(), id);
      return removed === 1 ? lease : null;
    },

    /** Live leases of the given profiles. */
    async list(profiles: readonly string[]): Promise<Lease[]> {
      const t = now();
      const out: Lease[] = [];
      for (const profile of profiles) {
        const ids = await redis.zrangebyscore(keys.leases(profile), t + 1, '+inf');
        if (ids.length === 0) continue;
        const raws = await redis.mget(...ids.map((id) => keys.lease(profile, id)));
        for (const raw of raws) if (raw) out.push(JSON.parse(raw) as Lease);
      }
      return out;
    },

    /** Number of live leases on a profile. */
    async liveCount(profile: string): Promise<number> {
      return redis.zcount(keys.leases(profile), now() + 1, '+inf');
    },

    /**
     * Removes expired leases and returns them. Every replica may sweep: ZREM's answer decides which
     * replica claimed a lease, so each expiry is reported exactly once across the cluster.
     */
    async sweep(profiles: readonly string[]): Promise<Lease[]> {
      const t = now();
      const expired: Lease[] = [];
      for (const profile of profiles) {
        const ids = await redis.zrangebyscore(keys.leases(profile), '-inf', t);
        for (const id of ids) {
          if ((await redis.zrem(keys.leases(profile), id)) !== 1) continue;
          const raw = await redis.get(keys.lease(profile, id));
          await redis.del(keys.lease(profile, id));
          await redis.hdel(keys.leaseIndex(), id);
          if (raw) expired.push(JSON.parse(raw) as Lease);
        }
      }
      return expired;
    },
  };
}

export type LeaseStore = ReturnType<typeof createLeaseStore>;
