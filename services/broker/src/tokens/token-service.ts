import { GtbError, isGtbError, type FetchLike } from '@gtb/errors';
import type { Logger } from '@gtb/logger';
import { createDistributedLock } from '@gtb/lock';
import type { Keys, RedisClient } from '@gtb/redis';
import { createGenesysApi, createGenesysLogin, type GenesysApi, type GenesysLogin } from '@gtb/genesys';
import { createCircuitBreaker, DEFAULT_BREAKER, type BreakerOptions } from './circuit-breaker.js';
import { createCooldown, DEFAULT_COOLDOWN, type CooldownOptions } from './cooldown.js';
import type { KeyRing } from './key-ring.js';
import { createL1Cache } from './l1-cache.js';
import { createL2Store } from './l2-store.js';
import { obtainToken, type MintDeps, type ResolvedProfile } from './mint-coordinator.js';
import { profileHosts, type ProfileConfig } from './profile-config.js';
import type { ProfileRegistry } from './profile-registry.js';
import type { EventPublisher } from '@gtb/events';
import { activeSpanContext, annotateActiveSpan, inSpan, tracerOf, type SpanContext } from '@gtb/tracing';
import { createReadyWaiters, decodeReady, encodeReady } from './ready-channel.js';
import { guardRedis } from './redis-guard.js';
import { isUsable } from './refresh-policy.js';
import { DEFAULT_RETRY, sleep as realSleep, type RetryOptions } from './retry.js';
import { createSingleFlight } from './single-flight.js';
import type { CachedToken, ProfileState, TokenObserver } from './types.js';

export interface TokenServiceOptions {
  /** Command connection, created fail-fast. */
  redis: RedisClient;
  /** A separate connection for SUBSCRIBE (`duplicateRedis`). */
  subscriber: RedisClient;
  keys: Keys;
  /** The broker's one profile registry. */
  profiles: ProfileRegistry;
  /** Lifecycle events (`token.*`). */
  events: Pick<EventPublisher, 'tryPublish'>;
  keyRing: KeyRing;
  logger: Logger;
  /** This replica's id, for logs. */
  instanceId: string;
  /** Overrides the login client of a profile (tests, proxies). */
  loginFor?: (profile: ProfileConfig) => GenesysLogin;
  /** Overrides the Platform API client of a profile (revoke). */
  apiFor?: (profile: ProfileConfig) => GenesysApi;
  observer?: TokenObserver;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  fetch?: FetchLike;
  lockTtlMs?: number;
  waitTimeoutMs?: number;
  /** Fallback poll of L2 while waiting for another replica's mint (250 ms). */
  pollMs?: number;
  /** Deadline of one Redis command (2 s). */
  redisTimeoutMs?: number;
  upstreamTimeoutMs?: number;
  retry?: Partial<RetryOptions>;
  breaker?: Partial<BreakerOptions>;
  cooldown?: Partial<CooldownOptions>;
}

/** The broker's token cache: L1, L2, one mint per cluster (docs/architecture.md § Token path). */
export interface TokenService {
  /** A token with at least minTtl left, from L1, L2 or one cluster-wide mint. */
  getToken(profile: string): Promise<CachedToken>;
  /** `getToken` when L1 can answer now (counted, refresh-ahead started); else undefined. Never throws. */
  cached(profile: string): CachedToken | undefined;
  /** Mints a new token now through the lock, even if the cached one is valid. */
  rotate(profile: string): Promise<CachedToken>;
  /**
   * Revokes the cached token at Genesys and purges it everywhere; with `older`, revokes only that
   * superseded token and keeps the cache (unless it is still the cached one).
   */
  revoke(profile: string, older?: CachedToken): Promise<void>;
  /**
   * A holder reports that Genesys rejected the token with this fingerprint. When it is still the
   * cached token, Genesys is asked (`GET /api/v2/tokens/me`) before anything happens, so a report
   * cannot force a mint; a confirmed dead token is replaced through the lock (one mint however many
   * replicas and holders report it) and `token.revoked` (cause `upstream`) is published. Answers the
   * current token and whether this report replaced it.
   */
  replaceRejected(profile: string, fingerprint: string): Promise<{ token: CachedToken; replaced: boolean }>;
  /** What this process holds per profile, from memory only (for scrape-time gauges). */
  held(): { profile: string; expiresAt?: number | undefined; circuit: 'closed' | 'open' | 'half-open' }[];
  /** What the admin view shows; never a token value. */
  state(profile: string): Promise<ProfileState>;
  /** Subscribes to the profiles' ready channels. */
  start(): Promise<void>;
  /** Unsubscribes and lets background refreshes finish (bounded). */
  close(): Promise<void>;
}

const tracer = tracerOf('gtb.broker');

/** Builds the token service; validates its options where it is built. */
export function createTokenService(options: TokenServiceOptions): TokenService {
  const { redis, subscriber, keys, keyRing, instanceId } = options;
  const logger = options.logger.child({ component: 'tokens', instance: instanceId });
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const observer = options.observer ?? {};
  const lockTtlMs = positive('lockTtlMs', options.lockTtlMs ?? 15_000);
  const waitTimeoutMs = positive('waitTimeoutMs', options.waitTimeoutMs ?? 10_000);
  const redisTimeoutMs = positive('redisTimeoutMs', options.redisTimeoutMs ?? 2_000);
  const breakerOptions = { ...DEFAULT_BREAKER, ...options.breaker };

  const resolved = new Map<string, ResolvedProfile & { api: GenesysApi }>();
  for (const { config } of options.profiles.all()) {
    const hosts = profileHosts(config);
    const common = { fetch: options.fetch ?? globalThis.fetch, timeoutMs: options.upstreamTimeoutMs ?? 10_000, now };
    resolved.set(config.name, {
      config,
      apiBaseUrl: hosts.apiBaseUrl,
      login: options.loginFor?.(config) ?? createGenesysLogin({ loginBaseUrl: hosts.loginBaseUrl, ...common }),
      api: options.apiFor?.(config) ?? createGenesysApi({ apiBaseUrl: hosts.apiBaseUrl, ...common }),
      breaker: createCircuitBreaker({ ...breakerOptions, now }),
      minTtlMs: config.refresh.minTtlSeconds * 1000,
    });
  }

  const l1 = createL1Cache();
  const store = createL2Store({ redis, keys, keyRing, logger, redisTimeoutMs });
  const waiters = createReadyWaiters();
  const deps: MintDeps = {
    redis, keys, store, l1, waiters, logger, observer, events: options.events, now, random, lockTtlMs, waitTimeoutMs, redisTimeoutMs,
    lock: createDistributedLock({ redis, now }),
    cooldown: createCooldown({ redis, keys, redisTimeoutMs, options: { ...DEFAULT_COOLDOWN, ...options.cooldown } }),
    sleep: options.sleep ?? realSleep,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    pollMs: positive('pollMs', options.pollMs ?? 250),
  };
  const flights = createSingleFlight<CachedToken>();
  // The span of each profile's in-flight load (the single-flight leader), for joiners to link to.
  const leaders = new Map<string, SpanContext>();
  const reports = createSingleFlight<{ token: CachedToken; replaced: boolean }>();
  const refreshing = new Map<string, Promise<void>>();
  const channels = new Map([...resolved.keys()].map((name) => [keys.tokenNotices(name), name]));
  let started = false;
  let listening = false;
  let closed = false;

  const profileOf = (name: string) => {
    if (closed) throw new GtbError('ERR_SHUTTING_DOWN');
    const p = typeof name === 'string' ? resolved.get(name) : undefined;
    if (!p) throw new GtbError('ERR_PROFILE_UNKNOWN', `unknown profile ${JSON.stringify(String(name).slice(0, 64))}`);
    return p;
  };

  const onMessage = (channel: string, text: string) => {
    const name = channels.get(channel);
    const message = name === undefined ? undefined : decodeReady(text);
    if (name === undefined || !message) return;
    // Another replica wrote a newer token or revoked: drop what this process holds.
    if (message.kind === 'ready') {
      // Fences only grow while Redis keeps its data (a holder publishes before it releases the lock),
      // so a lower fence for another token means the counter restarted: Redis lost its data. The held
      // token is then no guide; drop it and read what Redis has now.
      const held = l1.get(name);
      if (held && message.fence < held.fence && message.fingerprint !== held.fingerprint) l1.delete(name);
      else l1.invalidate(name, message.fence);
    }
    if (message.kind === 'revoked') l1.delete(name);
    waiters.notify(name, message);
  };

  /** Starts one background refresh per profile and process; the lock makes it one per cluster. */
  function refreshInBackground(p: ResolvedProfile, baseline: number): void {
    const name = p.config.name;
    if (refreshing.has(name) || closed) return;
    // Its own trace, linked from the request that started it: the request does not wait for it.
    const run = inSpan(tracer, 'gtb.token.refresh', { root: true, links: [activeSpanContext()], attributes: { 'gtb.profile': name } }, () => obtainToken(deps, p, 'refresh', baseline))
      .then(() => undefined)
      .catch((err: unknown) => {
        logger.warn({ profile: name, code: isGtbError(err) ? err.code : 'ERR_INTERNAL' }, 'background refresh failed; the current token is still served');
      })
      .finally(() => refreshing.delete(name));
    refreshing.set(name, run);
  }

  function serve(p: ResolvedProfile, token: CachedToken, layer: 'l1' | 'l2'): CachedToken {
    observer.cacheHit?.(layer);
    if (now() >= token.refreshAt) refreshInBackground(p, token.fence);
    return token;
  }

  async function revokeUpstream(p: ResolvedProfile & { api: GenesysApi }, token: CachedToken): Promise<void> {
    try {
      await p.api.revokeToken(token.accessToken);
    } catch (err) {
      // 401: Genesys no longer knows the token, which is what we wanted. Anything else: keep the
      // token so the revocation can be retried; purging it would leave it live and forgotten.
      const status = isGtbError(err) ? (err.details?.upstreamStatus as number | undefined) : undefined;
      if (!(isGtbError(err, 'ERR_UPSTREAM_REJECTED') && status === 401)) throw err;
    }
  }

  /** Whether Genesys still accepts `token` (`GET /api/v2/tokens/me`): false only on its 401. */
  async function acceptedUpstream(p: ResolvedProfile & { api: GenesysApi }, token: CachedToken): Promise<boolean> {
    try {
      await p.api.tokenInfo(token.accessToken);
      return true;
    } catch (err) {
      if (isGtbError(err, 'ERR_UPSTREAM_REJECTED') && err.details?.upstreamStatus === 401) return false;
      throw err;
    }
  }

  async function loadOrMint(p: ResolvedProfile): Promise<CachedToken> {
    const name = p.config.name;
    const stored = await store.read(name);
    if (stored && isUsable(stored, now(), p.minTtlMs)) {
      l1.set(stored);
      annotateActiveSpan({ 'gtb.token.source': 'l2' });
      return serve(p, stored, 'l2');
    }
    observer.cacheMiss?.();
    annotateActiveSpan({ 'gtb.token.source': 'lock' });
    const token = await obtainToken(deps, p, 'miss', 0, stored);
    if (!token) throw new GtbError('ERR_INTERNAL', 'no token after a mint');
    return token;
  }

  /** The L1 answer, when this process holds a usable token. */
  function fromL1(p: ResolvedProfile): CachedToken | undefined {
    const held = l1.get(p.config.name);
    return held && isUsable(held, now(), p.minTtlMs) ? serve(p, held, 'l1') : undefined;
  }

  async function getToken(name: string): Promise<CachedToken> {
    const p = profileOf(name);
    const held = fromL1(p);
    if (held) {
      annotateActiveSpan({ 'gtb.profile': p.config.name, 'gtb.token.source': 'l1', 'gtb.token.fingerprint': held.fingerprint });
      return held;
    }
    return lookup(p);
  }

  /**
   * An L1 miss, traced: the first caller per profile leads (`gtb.token.lookup`: L2, then the lock),
   * the others join its single flight (`gtb.single_flight.join`, linked to the leader's span).
   */
  function lookup(p: ResolvedProfile): Promise<CachedToken> {
    const name = p.config.name;
    const leader = leaders.get(name);
    if (leader) {
      return inSpan(tracer, 'gtb.single_flight.join', { attributes: { 'gtb.profile': name }, links: [leader] }, () => flights.run(name, () => loadOrMint(p)));
    }
    return inSpan(tracer, 'gtb.token.lookup', { attributes: { 'gtb.profile': name } }, async (span) => {
      leaders.set(name, span.spanContext());
      try {
        const token = await flights.run(name, () => loadOrMint(p));
        span.setAttribute('gtb.token.fingerprint', token.fingerprint);
        return token;
      } finally {
        if (leaders.get(name) === span.spanContext()) leaders.delete(name);
      }
    });
  }

  return {
    getToken,

    cached(name) {
      const p = closed || typeof name !== 'string' ? undefined : resolved.get(name);
      return p && fromL1(p);
    },

    async rotate(name) {
      const p = profileOf(name);
      const baseline = Math.max(await store.fence(p.config.name), l1.get(p.config.name)?.fence ?? 0);
      return flights.run(`rotate:${p.config.name}`, async () => {
        const token = await obtainToken(deps, p, 'rotate', baseline);
        if (!token) throw new GtbError('ERR_INTERNAL', 'no token after a rotation');
        return token;
      });
    },

    async revoke(name, older) {
      const p = profileOf(name);
      const current = (await store.read(p.config.name)) ?? l1.get(p.config.name) ?? null;
      // With an older token (a rotation's predecessor, revoked after the lease grace period), only
      // that token dies at Genesys; the cache already holds its replacement and keeps it.
      const target = older ?? current;
      const purge = older === undefined || (current !== null && current.fence === older.fence);
      if (target && target.expiresAt > now()) await revokeUpstream(p, target);
      if (purge) {
        await store.purge(p.config.name);
        l1.delete(p.config.name);
        await guardRedis(() => redis.publish(keys.tokenNotices(p.config.name), encodeReady({ kind: 'revoked', ...(target ? { fence: target.fence } : {}) })), redisTimeoutMs, 'PUBLISH revoked');
      }
      logger.info({ profile: p.config.name, fingerprint: target?.fingerprint, purged: purge }, 'token revoked');
      void options.events.tryPublish('token.revoked', p.config.name, { profile: p.config.name, cause: 'admin', ...(target ? { fingerprint: target.fingerprint } : {}) });
    },

    async replaceRejected(name, reported) {
      const p = profileOf(name);
      return reports.run(`${p.config.name}:${reported}`, async () => {
        const current = (await store.read(p.config.name)) ?? null;
        // Already replaced (by another report, a rotation or a refresh): the holder just needs the new one.
        if (!current || current.fingerprint !== reported) return { token: await getToken(name), replaced: false };
        if (await acceptedUpstream(p, current)) return { token: current, replaced: false };
        logger.warn({ profile: p.config.name, fingerprint: current.fingerprint }, 'Genesys rejects the cached token (revoked elsewhere); replacing it');
        l1.delete(p.config.name);
        try {
          const token = await obtainToken(deps, p, 'rotate', current.fence, undefined, current.fingerprint);
          if (!token) throw new GtbError('ERR_INTERNAL', 'no token after replacing a rejected one');
          return { token, replaced: true };
        } catch (err) {
          // No replacement now (throttled, Genesys down): hand the dead token to no one meanwhile.
          await store.purge(p.config.name).catch(() => undefined);
          await guardRedis(() => redis.publish(keys.tokenNotices(p.config.name), encodeReady({ kind: 'revoked', fence: current.fence })), redisTimeoutMs, 'PUBLISH revoked').catch(() => undefined);
          throw err;
        }
      });
    },

    held() {
      return [...resolved.values()].map((p) => ({ profile: p.config.name, expiresAt: l1.get(p.config.name)?.expiresAt, circuit: p.breaker.state() }));
    },

    async state(name) {
      const p = profileOf(name);
      const base = { profile: p.config.name, circuit: p.breaker.state(), refreshing: refreshing.has(p.config.name) };
      const local = l1.get(p.config.name);
      try {
        const stored = await store.read(p.config.name);
        const cooldownMs = await deps.cooldown.remainingMs(p.config.name);
        const token = stored ?? null;
        return { ...base, ...describe(token), source: token ? 'l2' : 'none', cooldownMs, redisAvailable: true };
      } catch (err) {
        if (!isGtbError(err, 'ERR_REDIS_UNAVAILABLE')) throw err;
        return { ...base, ...describe(local ?? null), source: local ? 'l1' : 'none', cooldownMs: 0, redisAvailable: false };
      }
    },


    async start() {
      if (started) return;
      // Listening is set up once; the SUBSCRIBE may fail (Redis down) and be retried by the caller.
      if (!listening) {
        subscriber.on('message', onMessage);
        listening = true;
      }
      if (channels.size > 0) {
        await guardRedis(() => subscriber.subscribe(...channels.keys()), Math.max(redisTimeoutMs, 5_000), 'SUBSCRIBE ready');
      }
      started = true;
    },

    async close() {
      if (closed) return;
      closed = true;
      waiters.close();
      subscriber.off('message', onMessage);
      listening = false;
      // Bounded: with Redis gone, ioredis would hold the UNSUBSCRIBE until it gives up reconnecting (~30 s).
      if (started && channels.size > 0) await guardRedis(() => subscriber.unsubscribe(...channels.keys()), redisTimeoutMs, 'UNSUBSCRIBE ready').catch(() => undefined);
      const pending = Promise.allSettled([...refreshing.values()]);
      await Promise.race([pending, new Promise((r) => setTimeout(r, 5_000).unref())]);
      l1.clear();
    },
  };
}

function describe(token: CachedToken | null) {
  if (!token) return {};
  return { fingerprint: token.fingerprint, issuedAt: token.issuedAt, expiresAt: token.expiresAt, refreshAt: token.refreshAt, fence: token.fence };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new GtbError('ERR_CONFIG_INVALID', `option ${name} must be a positive number`);
  return value;
}
