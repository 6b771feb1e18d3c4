import { GtbError, NAME_PATTERN } from '@gtb/errors';

/** Key prefixes: `gtb` in production, one per test run. No braces, so a prefix never makes a hash tag. */
export const KEY_PREFIX_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Throws ERR_VALIDATION unless `name` may be used as a profile or stream name. */
export function assertName(kind: 'profile' | 'stream', name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new GtbError('ERR_VALIDATION', `${kind} name must match ${NAME_PATTERN} (got ${JSON.stringify(name.slice(0, 80))})`);
  }
}

/**
 * Every Redis key and channel name of the system (docs/architecture.md § Redis keys). All keys of
 * one profile share the hash tag `{<profile>}`, and all keys of one stream `{<stream>}`, so the
 * multi-key Lua scripts run in Cluster. `prefix` is `gtb` in production; tests pass their own so they can run in parallel.
 */
export function createKeys(prefix = 'gtb') {
  if (!KEY_PREFIX_PATTERN.test(prefix)) throw new GtbError('ERR_CONFIG_INVALID', `key prefix ${JSON.stringify(prefix)} is not allowed`);
  const p = (profile: string) => `${prefix}:{${profile}}`;
  const s = (stream: string) => `{${stream}}`;
  return {
    prefix,
    /** Encrypted cached token of a profile. */
    token: (profile: string) => `${p(profile)}:token`,
    /** Distributed mint lock (`SET NX PX`, owner id). */
    lock: (profile: string) => `${p(profile)}:lock`,
    /** Fencing counter (`INCR`). */
    fence: (profile: string) => `${p(profile)}:fence`,
    /** Cluster-wide upstream cooldown after throttling. */
    cooldown: (profile: string) => `${p(profile)}:cooldown`,
    /**
     * Pub/sub channel of a profile's token notices: a new token is in the cache, a mint failed, or
     * the token was revoked. The channel keeps its first name, `:ready`, so that replicas of
     * different versions still hear each other during a rolling upgrade.
     */
    tokenNotices: (profile: string) => `${p(profile)}:ready`,
    /** Live leases of a profile (sorted set by expiry). */
    leases: (profile: string) => `${p(profile)}:leases`,
    /** One lease's record. */
    lease: (profile: string, leaseId: string) => `${p(profile)}:lease:${leaseId}`,
    /** Where lease ids are looked up (id → profile). */
    leaseIndex: () => `${prefix}:lease-index`,
    /** Recent mints of a profile (sorted set by time, a day kept): the console's last mint and mints per hour. */
    mints: (profile: string) => `${p(profile)}:mints`,
    /** Per-caller rate limit window. */
    rateLimit: (caller: string, window: number) => `${prefix}:rl:{${caller}}:${window}`,
    /** Output Redis Stream of a notification stream. */
    events: (stream: string) => `${prefix}:events:${s(stream)}`,
    /** Dedupe marker of one event of a stream. */
    dedupe: (stream: string, eventId: string) => `${prefix}:dedupe:${s(stream)}:${eventId}`,
    /** Streamer owner lock of a stream (active-passive). */
    owner: (stream: string) => `${prefix}:owner:${s(stream)}`,
    /** Streamer owner fencing counter. */
    ownerFence: (stream: string) => `${prefix}:owner-fence:${s(stream)}`,
    /** What one streamer replica reports about its streams (JSON, rewritten every few seconds, with a TTL). */
    streamerState: (instance: string) => `${prefix}:streamer-state:${instance}`,
    /** Pattern matching every replica's streamer state (SCAN). */
    streamerStatePattern: () => `${prefix}:streamer-state:*`,
    /**
     * Which replicas report streamer state: a sorted set of the `instance` of `streamerState`, scored
     * by the last report (epoch ms). Readers find the reports here, not by SCAN: a busy stream keeps
     * a dedupe key per event, tens of thousands of keys a bounded SCAN would not get through.
     */
    streamerStateIndex: () => `${prefix}:streamer-states`,
    /** Pub/sub channel of one lifecycle event type. */
    lifecycleChannel: (type: string) => `${prefix}:lifecycle:${type}`,
    /** Pattern matching every lifecycle channel. */
    lifecyclePattern: () => `${prefix}:lifecycle:*`,
    /** Durable copy of lifecycle events. */
    lifecycleStream: () => `${prefix}:lifecycle`,
  };
}

export type Keys = ReturnType<typeof createKeys>;
