import { GtbError, isGtbError } from '@gtb/errors';
import { fingerprint, type Logger } from '@gtb/logger';
import { nextFence, type DistributedLock, type LockHandle } from '@gtb/lock';
import type { Keys, RedisClient } from '@gtb/redis';
import type { EventPublisher } from '@gtb/events';
import type { GenesysLogin } from '@gtb/genesys';
import { activeSpanContext, annotateActiveSpan, failSpan, inSpan, spanContextOf, startSpan, traceparentOf, tracerOf, type Span } from '@gtb/tracing';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { Cooldown } from './cooldown.js';
import type { L1Cache } from './l1-cache.js';
import type { L2Store } from './l2-store.js';
import type { ProfileConfig } from './profile-config.js';
import { encodeReady, errorFromReady, type ReadyWaiters } from './ready-channel.js';
import { guardRedis } from './redis-guard.js';
import { computeRefreshAt, isUsable } from './refresh-policy.js';
import { retry, type RetryOptions } from './retry.js';
import type { CachedToken, TokenObserver } from './types.js';

/** Our spans on the token path (a no-op tracer until the SDK is started: main.ts, OTEL_*). */
const tracer = tracerOf('gtb.broker');

/** `{ traceparent }` of the active span (the lock holder's), for the ready/failed message; empty untraced. */
function traced(): { traceparent?: string } {
  const traceparent = traceparentOf(activeSpanContext());
  return traceparent ? { traceparent } : {};
}

/** A configured profile with what it needs to mint. */
export interface ResolvedProfile {
  config: ProfileConfig;
  apiBaseUrl: string;
  login: GenesysLogin;
  breaker: CircuitBreaker;
  minTtlMs: number;
}

export interface MintDeps {
  redis: RedisClient;
  keys: Keys;
  lock: DistributedLock;
  store: L2Store;
  l1: L1Cache;
  cooldown: Cooldown;
  waiters: ReadyWaiters;
  logger: Logger;
  observer: TokenObserver;
  /** Lifecycle events (`token.*`), published without ever failing a mint. */
  events: Pick<EventPublisher, 'tryPublish'>;
  now: () => number;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  retry: RetryOptions;
  lockTtlMs: number;
  waitTimeoutMs: number;
  pollMs: number;
  redisTimeoutMs: number;
}

/**
 * Why a token is wanted: `miss` takes any usable token; `refresh` only a token newer than
 * `baseline` or not yet due, and gives up rather than wait; `rotate` only a token newer than `baseline`.
 */
export type MintMode = 'miss' | 'refresh' | 'rotate';

/**
 * One mint per profile across replicas (docs/architecture.md § Token path): one holder of
 * `keys.lock(p)` mints; everyone else waits for the ready message (with a bounded poll) and reads L2. Resolves null only in `refresh` mode, when there
 * was nothing for this replica to do.
 */
export async function obtainToken(deps: MintDeps, p: ResolvedProfile, mode: MintMode, baseline: number, alreadyRead?: CachedToken | null, rejected?: string): Promise<CachedToken | null> {
  const name = p.config.name;
  // Waiting is bounded in real time: it limits how long a request hangs, not how long a token lives.
  const deadline = Date.now() + deps.waitTimeoutMs;
  let waitStarted: number | undefined;
  // A caller that has just read L2 (a cold miss) passes what it read, so the first round does not read it again.
  let known = alreadyRead;
  // The wait for another holder's mint, as a span from the first refused lock to the token: each
  // wake-up is an event, and the minting holder's span (from its ready message) a link.
  let waiting: Span | undefined;
  let linked = false;
  const linkMinter = (traceparent: string | undefined) => {
    const minter = spanContextOf(traceparent);
    if (waiting && minter && !linked) {
      waiting.addLink({ context: minter });
      linked = true;
    }
  };
  try {
    for (;;) {
      const current = known === undefined ? await deps.store.read(name) : known;
      known = undefined;
      if (isWanted(deps, p, current, mode, baseline)) {
        if (waiting) {
          linkMinter(deps.waiters.minter(name, current!.fence));
          waiting.setAttribute('gtb.fence', current!.fence);
        }
        return settle(deps, current!, waitStarted);
      }
      await assertMayCallUpstream(deps, p, mode);
      const handle = await inSpan(tracer, 'gtb.lock.acquire', { attributes: { 'gtb.profile': name } }, async (span) => {
        const acquired = await guardRedis(() => deps.lock.acquire(deps.keys.lock(name), deps.lockTtlMs), deps.redisTimeoutMs, 'acquire lock');
        span.setAttribute('gtb.lock.acquired', Boolean(acquired));
        return acquired;
      });
      if (handle) {
        waiting?.end();
        waiting = undefined;
        return await inSpan(tracer, 'gtb.lock.hold', { attributes: { 'gtb.profile': name, 'gtb.mint.mode': mode } }, () => mintHolding(deps, p, handle, mode, baseline, rejected));
      }
      if (mode === 'refresh') return null; // another replica is refreshing it
      waitStarted ??= Date.now();
      waiting ??= startSpan(tracer, 'gtb.lock.wait', { attributes: { 'gtb.profile': name, 'gtb.mint.mode': mode } });
      const left = deadline - Date.now();
      if (left <= 0) {
        deps.observer.lockTimeout?.(name);
        throw new GtbError('ERR_LOCK_TIMEOUT', `no token for profile ${name} within ${deps.waitTimeoutMs} ms`);
      }
      const message = await deps.waiters.wait(name, Math.min(deps.pollMs, left));
      waiting.addEvent('gtb.waiter.woken', { 'gtb.wake': message?.kind ?? 'poll' });
      if (message?.kind === 'ready' || message?.kind === 'failed') linkMinter(message.traceparent);
      if (message?.kind === 'failed') throw errorFromReady(message);
    }
  } catch (err) {
    if (waiting) failSpan(waiting, err);
    throw err;
  } finally {
    waiting?.end();
  }
}

/** Whether `token` is what a caller in `mode` wants (see MintMode). */
function isWanted(deps: MintDeps, p: ResolvedProfile, token: CachedToken | null, mode: MintMode, baseline: number): boolean {
  if (!token || !isUsable(token, deps.now(), p.minTtlMs)) return false;
  if (mode === 'miss') return true;
  if (mode === 'refresh') return token.fence > baseline || deps.now() < token.refreshAt;
  return token.fence > baseline;
}

function settle(deps: MintDeps, token: CachedToken, waitStarted: number | undefined): CachedToken {
  deps.l1.set(token);
  if (waitStarted !== undefined) deps.observer.lockWait?.(Date.now() - waitStarted);
  return token;
}

/** Throws (or, for a refresh, reports by returning) when the cooldown or the breaker forbid a call. */
async function assertMayCallUpstream(deps: MintDeps, p: ResolvedProfile, mode: MintMode): Promise<void> {
  const cooling = await deps.cooldown.remainingMs(p.config.name);
  if (cooling > 0) {
    annotateActiveSpan({ 'gtb.cooldown.remaining_ms': cooling });
    throw new GtbError('ERR_UPSTREAM_THROTTLED', `Genesys is throttling profile ${p.config.name}; retry later`, {
      retryAfter: Math.max(1, Math.ceil(cooling / 1000)),
      details: { mode },
    });
  }
  if (p.breaker.state() === 'open') p.breaker.check(); // throws ERR_CIRCUIT_OPEN with its retryAfter
}

async function mintHolding(deps: MintDeps, p: ResolvedProfile, handle: LockHandle, mode: MintMode, baseline: number, rejected?: string): Promise<CachedToken | null> {
  const name = p.config.name;
  // Mints can outlast the lock TTL (retries × timeouts): keep the lock while we work.
  const keepAlive = setInterval(() => {
    handle.extend(deps.lockTtlMs).catch(() => undefined);
  }, Math.max(50, Math.floor(deps.lockTtlMs / 3)));
  try {
    // Re-read under the lock: the previous holder may have just written.
    const current = await deps.store.read(name);
    if (isWanted(deps, p, current, mode, baseline)) return settle(deps, current!, undefined);
    await assertMayCallUpstream(deps, p, mode);
    p.breaker.check();
    // The fence is drawn before the mint, not after: a holder whose lock lapses during a slow mint
    // then holds an older fence than the holder after it, and its late write is refused.
    let fence = await guardRedis(() => nextFence(deps.redis, deps.keys.fence(name)), deps.redisTimeoutMs, 'INCR fence');
    // A Redis that lost its data (restart without persistence, failover to an empty replica) starts
    // the counter again at 1, below the fences replicas still hold in memory, which would then
    // ignore the new token. Lift the counter above the highest fence this process knows.
    const floor = Math.max(baseline, current?.fence ?? 0, deps.l1.get(name)?.fence ?? 0);
    if (fence <= floor) {
      fence = await guardRedis(() => deps.redis.incrby(deps.keys.fence(name), floor - fence + 1), deps.redisTimeoutMs, 'INCRBY fence');
    }
    annotateActiveSpan({ 'gtb.fence': fence });
    // The one replica that replaces a token Genesys rejected says so, once for the cluster.
    if (current && current.fingerprint === rejected) {
      void deps.events.tryPublish('token.revoked', name, { profile: name, fingerprint: current.fingerprint, cause: 'upstream', reason: 'Genesys rejected the token; the broker confirmed with GET /api/v2/tokens/me' });
    }
    return await mintAndWrite(deps, p, fence, current);
  } finally {
    clearInterval(keepAlive);
    await guardRedis(() => handle.release(), deps.redisTimeoutMs, 'release lock')
      .catch((err: unknown) => deps.logger.warn({ profile: name, err: String(err) }, 'could not release the mint lock; it lapses by its TTL'));
  }
}

/** Mints with retries, writes with the fence, publishes ready; every failure becomes a stable code. */
export async function mintAndWrite(deps: MintDeps, p: ResolvedProfile, fence: number, previous: CachedToken | null): Promise<CachedToken> {
  const name = p.config.name;
  const started = performance.now();
  let minted;
  try {
    // One span for the upstream mint, one child per attempt (each holds the HTTP client span of its POST /oauth/token).
    minted = await inSpan(tracer, 'gtb.upstream.mint', { attributes: { 'gtb.profile': name, 'gtb.fence': fence } }, async (span) => {
      let attempts = 0;
      try {
        return await retry((attempt) => {
          attempts = attempt;
          return inSpan(tracer, 'gtb.upstream.attempt', { attributes: { 'gtb.attempt': attempt } }, () => p.login.clientCredentials(p.config.clientId, p.config.clientSecret));
        }, {
          ...deps.retry,
          retryable: (err) => isGtbError(err, 'ERR_UPSTREAM_UNAVAILABLE', 'ERR_UPSTREAM_TIMEOUT'),
          random: deps.random,
          sleep: deps.sleep,
        });
      } finally {
        span.setAttribute('gtb.mint.attempts', attempts);
      }
    });
  } catch (err) {
    throw await mintFailed(deps, p, err, performance.now() - started);
  }
  p.breaker.success();
  deps.cooldown.reset(name);

  const issuedAt = minted.receivedAt;
  const expiresAt = issuedAt + minted.expiresIn * 1000;
  if (minted.expiresIn * 1000 <= p.minTtlMs) {
    const err = new GtbError('ERR_UPSTREAM_REJECTED', `Genesys issued a token for ${minted.expiresIn} s, not more than the profile's minTtlSeconds; lower it or raise the client's token lifetime`);
    throw await mintFailed(deps, p, err, performance.now() - started);
  }
  const { refresh } = p.config;
  const token: CachedToken = {
    profile: name,
    accessToken: minted.accessToken,
    tokenType: minted.tokenType,
    issuedAt,
    expiresAt,
    refreshAt: computeRefreshAt({ issuedAt, expiresAt, at: refresh.at, jitter: refresh.jitter, minTtlMs: p.minTtlMs, random: deps.random }),
    fingerprint: fingerprint(minted.accessToken),
    fence,
    apiBaseUrl: p.apiBaseUrl,
  };
  const ms = performance.now() - started;
  const written = await inSpan(tracer, 'gtb.token.fenced_write', { attributes: { 'gtb.profile': name, 'gtb.fence': fence, 'gtb.token.fingerprint': token.fingerprint } }, async (span) => {
    const accepted = await deps.store.write(token, Math.max(1, expiresAt - deps.now()));
    span.setAttribute('gtb.write.accepted', accepted);
    return accepted;
  });
  if (!written) {
    // A newer holder already wrote: ours is discarded (it simply expires at Genesys).
    deps.logger.warn({ profile: name, fence, fingerprint: token.fingerprint }, 'a newer token was written while minting; discarding this one');
    deps.observer.mintFinished?.(name, ms, 'ok');
    const newer = await deps.store.read(name);
    if (newer && isUsable(newer, deps.now(), p.minTtlMs)) return settle(deps, newer, undefined);
    throw new GtbError('ERR_FENCE_STALE', `a newer token for profile ${name} was written`);
  }
  deps.l1.set(token);
  await guardRedis(() => deps.redis.publish(deps.keys.tokenNotices(name), encodeReady({ kind: 'ready', fence, fingerprint: token.fingerprint, ...traced() })), deps.redisTimeoutMs, 'PUBLISH ready');
  annotateActiveSpan({ 'gtb.mint.outcome': 'ok', 'gtb.token.fingerprint': token.fingerprint });
  deps.logger.info({ profile: name, fence, fingerprint: token.fingerprint, expiresAt: new Date(expiresAt).toISOString(), ms: Math.round(ms) }, 'token minted');
  deps.observer.mintFinished?.(name, ms, 'ok');
  const issued = { profile: name, fingerprint: token.fingerprint, expiresAt: new Date(expiresAt).toISOString() };
  void deps.events.tryPublish('token.minted', name, issued);
  if (previous) void deps.events.tryPublish('token.rotated', name, { ...issued, previousFingerprint: previous.fingerprint });
  return token;
}

/** Records a failed mint: cooldown on throttling, breaker on unavailability, events, a failed message. */
async function mintFailed(deps: MintDeps, p: ResolvedProfile, err: unknown, ms: number): Promise<GtbError> {
  const name = p.config.name;
  let error = isGtbError(err) ? err : new GtbError('ERR_INTERNAL', 'token mint failed', { cause: err });
  if (error.code === 'ERR_UPSTREAM_THROTTLED') {
    p.breaker.success(); // Genesys answered: it is reachable, only busy
    const cooldownMs = await deps.cooldown.start(name, error.retryAfter).catch(() => 0);
    const retryAfter = Math.max(1, Math.ceil(cooldownMs / 1000));
    error = new GtbError('ERR_UPSTREAM_THROTTLED', error.message, { retryAfter, details: error.details, cause: error });
    deps.observer.throttled?.(name);
    annotateActiveSpan({ 'gtb.cooldown.seconds': retryAfter });
    void deps.events.tryPublish('token.rate_limited', name, { profile: name, retryAfterSeconds: retryAfter });
    deps.logger.warn({ profile: name, retryAfter }, 'Genesys throttled the token request; cooldown set for all replicas');
  } else if (error.code === 'ERR_UPSTREAM_UNAVAILABLE' || error.code === 'ERR_UPSTREAM_TIMEOUT') {
    p.breaker.failure();
  } else {
    p.breaker.success();
  }
  deps.observer.mintFinished?.(name, ms, error.code === 'ERR_UPSTREAM_THROTTLED' ? 'throttled' : 'error');
  annotateActiveSpan({ 'gtb.mint.outcome': error.code === 'ERR_UPSTREAM_THROTTLED' ? 'throttled' : 'error' });
  void deps.events.tryPublish('token.mint_failed', name, { profile: name, code: error.code, message: `token request for ${name} failed (${error.code})` });
  deps.logger.warn({ profile: name, code: error.code, reason: error.message }, 'token mint failed');
  const failed = encodeReady({ kind: 'failed', error: error.code, ...(error.retryAfter === undefined ? {} : { retryAfter: error.retryAfter }), ...traced() });
  await deps.redis.publish(deps.keys.tokenNotices(name), failed).catch(() => undefined);
  return error;
}
