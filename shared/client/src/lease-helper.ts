import { backoffDelay, GtbError, type FetchLike } from '@gtb/errors';
import { createBrokerClient, type BrokerClient } from './broker-client.js';
import { isBrokerClientError } from './broker-client-error.js';
import type { IdentityTokenSource } from './broker-http.js';
import type { BrokerLease, BrokerToken } from './broker-token.js';

export interface LeaseHelperOptions {
  /** A client to use; or give `url` and `getIdentityToken` and one is built. */
  brokerClient?: BrokerClient;
  url?: string;
  getIdentityToken?: IdentityTokenSource;
  fetch?: FetchLike;
  profile: string;
  /** Who holds the lease, shown in the admin view (e.g. `streamer/pod-2`). */
  holder: string;
  /** Lease length; the broker's default (60 s) when absent. */
  ttlSeconds?: number;
  /** A token arrived: the first one, a rotated one (`rotated`: its fingerprint changed), or one after re-acquiring. */
  onToken: (token: BrokerToken, info: { rotated: boolean; lease: BrokerLease }) => void | Promise<void>;
  /** The lease is gone (released by someone else, expired, or renewals failed until it ran out). */
  onLost?: (error: GtbError) => void;
  /** One renewal or acquisition attempt failed and will be retried; or a listener threw. */
  onError?: (error: GtbError) => void;
  /** After a loss, acquire a new lease in the background (default true). */
  reacquire?: boolean;
  /** First retry delay, doubled with jitter up to `maxRetryMs` (defaults 500 and 10 000). */
  retryMs?: number;
  maxRetryMs?: number;
  now?: () => number;
  /** Uniform [0, 1) for retry jitter. */
  random?: () => number;
}

export interface LeaseHelper {
  /** Acquires the lease (rejects if that fails) and starts renewing it in the background. */
  start(): Promise<BrokerLease>;
  /** Stops renewing and releases the lease. Never rejects; release failures go to `onError`. */
  stop(): Promise<void>;
  /** The live lease and its token, if there is one. */
  current(): BrokerLease | undefined;
  /**
   * Renews now (or acquires, when no lease is held or the broker no longer knows it) and resolves
   * with the lease: for a holder about to use the token that wants a rotation picked up first.
   * Concurrent calls share one request; a changed token reaches `onToken` as with background
   * renewals. A failure rejects here (it is not also reported to `onError`) and the background
   * renewals go on.
   */
  renewNow(): Promise<BrokerLease>;
  /**
   * Genesys answered 401 to the lease's token (or to the token with this fingerprint): reports it to
   * the broker (`reportRejected`), which replaces a dead token, then renews at once so that the
   * lease carries the replacement (handed to `onToken` as a rotation). Concurrent reports of one
   * token share one request. Rejects when the broker could not be told or gave no token.
   */
  reportRejected(fingerprint?: string): Promise<BrokerLease>;
}

const asGtbError = (err: unknown, message: string) => (err instanceof GtbError ? err : new GtbError('ERR_INTERNAL', message, { cause: err }));

/**
 * A lease for a long-lived consumer (docs/architecture.md § Leases): acquire, renew at `renew_after`, hand
 * every new token to `onToken` (a rotation shows as a fingerprint change), retry failed renewals
 * with jittered backoff while the lease still runs, and report a loss.
 */
export function createLeaseHelper(options: LeaseHelperOptions): LeaseHelper {
  const { profile, holder, ttlSeconds, reacquire = true, retryMs = 500, maxRetryMs = 10_000, now = Date.now, random = Math.random } = options;
  if (typeof options.onToken !== 'function') throw new GtbError('ERR_CONFIG_INVALID', 'option "onToken" must be a function');
  if (!Number.isFinite(retryMs) || retryMs <= 0 || !Number.isFinite(maxRetryMs) || maxRetryMs < retryMs) {
    throw new GtbError('ERR_CONFIG_INVALID', 'options "retryMs" and "maxRetryMs" must be positive, retryMs <= maxRetryMs');
  }
  const client = options.brokerClient ?? (() => {
    if (options.url === undefined || options.getIdentityToken === undefined) {
      throw new GtbError('ERR_CONFIG_INVALID', 'give option "brokerClient", or both "url" and "getIdentityToken"');
    }
    return createBrokerClient({ url: options.url, getIdentityToken: options.getIdentityToken, fetch: options.fetch, now });
  })();

  let lease: BrokerLease | undefined;
  let lastFingerprint: string | undefined;
  let state: 'new' | 'running' | 'stopped' = 'new';
  let timer: NodeJS.Timeout | undefined;
  let busy: Promise<void> = Promise.resolve();
  let renewing: Promise<BrokerLease> | undefined;
  let failures = 0;

  const report = (error: GtbError) => {
    try {
      options.onError?.(error);
    } catch {
      // A throwing listener must not stop the renewals.
    }
  };

  function deliver(next: BrokerLease): void {
    const rotated = lastFingerprint !== undefined && next.token.fingerprint !== lastFingerprint;
    const changed = next.token.fingerprint !== lastFingerprint;
    lease = next;
    lastFingerprint = next.token.fingerprint;
    if (!changed) return;
    try {
      // Not awaited: a holder rolling its channel over must not delay the next renewal.
      void Promise.resolve(options.onToken(next.token, { rotated, lease: next })).catch((err: unknown) => report(asGtbError(err, 'onToken failed')));
    } catch (err) {
      report(asGtbError(err, 'onToken threw'));
    }
  }

  function backoff(error?: GtbError): number {
    return Math.max(backoffDelay(failures++, { baseMs: retryMs, maxMs: maxRetryMs }, random), (error?.retryAfter ?? 0) * 1000);
  }

  function schedule(delayMs: number, step: () => Promise<void>): void {
    if (state !== 'running') return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      busy = step();
    }, Math.max(0, delayMs));
  }

  function reportLost(cause: GtbError): void {
    lease = undefined;
    const error = cause.code === 'ERR_LEASE_LOST' ? cause : new GtbError('ERR_LEASE_LOST', `lease on ${profile} lost`, { cause });
    try {
      options.onLost?.(error);
    } catch {
      // as above
    }
  }

  function lost(cause: GtbError): void {
    reportLost(cause);
    failures = 0;
    if (reacquire) schedule(backoff(), acquireAgain);
  }

  async function renew(): Promise<void> {
    const held = lease;
    if (state !== 'running' || !held) return;
    try {
      const next = await client.renewLease(held.leaseId);
      if (state !== 'running') return;
      failures = 0;
      deliver(next);
      schedule(next.renewAfter - now(), renew);
    } catch (err) {
      if (state !== 'running') return;
      const error = asGtbError(err, 'lease renewal failed');
      if (isBrokerClientError(error, 'ERR_LEASE_NOT_FOUND')) return lost(error);
      report(error);
      const delay = backoff(error);
      if (now() + delay >= held.leaseExpiresAt) return lost(new GtbError('ERR_LEASE_LOST', `lease on ${profile} ran out while renewals failed`, { cause: error }));
      schedule(delay, renew);
    }
  }

  async function acquireAgain(): Promise<void> {
    if (state !== 'running') return;
    try {
      const next = await client.acquireLease(profile, holder, ttlSeconds);
      if (state !== 'running') {
        await client.releaseLease(next.leaseId).catch(() => undefined);
        return;
      }
      failures = 0;
      deliver(next);
      schedule(next.renewAfter - now(), renew);
    } catch (err) {
      if (state !== 'running') return;
      const error = asGtbError(err, 'lease acquisition failed');
      report(error);
      schedule(backoff(error), acquireAgain);
    }
  }

  async function renewOrAcquireNow(previous: Promise<void>): Promise<BrokerLease> {
    // After the background step in flight, and with none scheduled meanwhile: two steps at once
    // could acquire a second lease.
    await previous.catch(() => undefined);
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (state !== 'running') throw new GtbError('ERR_CONFIG_INVALID', 'the lease helper is not running');
    try {
      let next: BrokerLease | undefined;
      const held = lease;
      if (held) {
        try {
          next = await client.renewLease(held.leaseId);
        } catch (err) {
          if (!isBrokerClientError(err, 'ERR_LEASE_NOT_FOUND')) throw err;
          reportLost(err);
        }
      }
      next ??= await client.acquireLease(profile, holder, ttlSeconds);
      if (state !== 'running') {
        lease = next; // stop() waits for this call, then releases it
        throw new GtbError('ERR_CONFIG_INVALID', 'the lease helper was stopped');
      }
      failures = 0;
      deliver(next);
      schedule(next.renewAfter - now(), renew);
      return next;
    } catch (err) {
      const error = asGtbError(err, 'lease renewal failed');
      schedule(backoff(error), lease ? renew : acquireAgain);
      throw error;
    }
  }

  const reports = new Map<string, Promise<BrokerLease>>();

  function renewNow(): Promise<BrokerLease> {
    if (renewing) return renewing;
    const call = renewOrAcquireNow(busy);
    renewing = call;
    busy = call.then(() => undefined, () => undefined).finally(() => { if (renewing === call) renewing = undefined; });
    return call;
  }

  return {
    renewNow,
    reportRejected(fingerprint) {
      const fp = fingerprint ?? lease?.token.fingerprint;
      if (fp === undefined) return Promise.reject(new GtbError('ERR_CONFIG_INVALID', 'no token to report: the lease helper holds no lease'));
      const running = reports.get(fp);
      if (running) return running;
      const call = (async () => {
        try {
          await client.reportRejected(profile, fp);
          return await renewNow();
        } finally {
          reports.delete(fp);
        }
      })();
      reports.set(fp, call);
      return call;
    },
    async start() {
      if (state !== 'new') throw new GtbError('ERR_CONFIG_INVALID', 'a lease helper starts once');
      state = 'running';
      let first: BrokerLease;
      try {
        first = await client.acquireLease(profile, holder, ttlSeconds);
      } catch (err) {
        state = 'stopped';
        throw err;
      }
      deliver(first);
      schedule(first.renewAfter - now(), renew);
      return first;
    },
    async stop() {
      if (state === 'stopped') return;
      state = 'stopped';
      if (timer) clearTimeout(timer);
      timer = undefined;
      await busy.catch(() => undefined);
      const held = lease;
      lease = undefined;
      if (!held) return;
      try {
        await client.releaseLease(held.leaseId);
      } catch (err) {
        if (!isBrokerClientError(err, 'ERR_LEASE_NOT_FOUND')) report(asGtbError(err, 'lease release failed'));
      }
    },
    current: () => lease,
  };
}
