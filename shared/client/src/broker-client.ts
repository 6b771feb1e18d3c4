import { createHash } from 'node:crypto';
import { GtbError, type FetchLike } from '@gtb/errors';
import { isBrokerClientError } from './broker-client-error.js';
import { createBrokerHttp, type BrokerHttp, type IdentityTokenSource } from './broker-http.js';
import { assertProfile, createBrokerApi, type BrokerApi } from './broker-api.js';
import { parseTokenBody, type BrokerToken } from './broker-token.js';

export interface BrokerClientOptions {
  /** The broker's base URL. */
  url: string;
  /** Returns a current corporate IdP access token (the app caches and renews it). */
  getIdentityToken: IdentityTokenSource;
  fetch?: FetchLike;
  /** Clock in epoch ms. */
  now?: () => number;
  /** Fraction of the remaining lifetime at receipt after which a background refresh starts (default 0.8). */
  refreshAhead?: number;
  /** A cached token with less than this left is not handed out; the caller waits for a new one (default 60). */
  minTtlSeconds?: number;
  /** Bound on one broker request (default 10 000 ms). */
  timeoutMs?: number;
  /** A background refresh failed; the caller kept the cached token. Defaults to ignoring it. */
  onRefreshError?: (error: GtbError, profile: string) => void;
}

export interface GetTokenOptions {
  /** Ask the broker even if the cached token is fresh (used to notice a rotation early). */
  forceRefresh?: boolean;
}

/** The broker client apps use. */
export interface BrokerClient extends BrokerApi {
  /** The current Genesys token of a profile: from the local cache, refreshed ahead, one request at a time. */
  getToken(profile: string, options?: GetTokenOptions): Promise<BrokerToken>;
  /**
   * Genesys answered 401 to `token` (a token, or its fingerprint): `POST /v1/tokens/{profile}/rejected`.
   * The broker confirms with Genesys and replaces a dead token (one mint however many holders
   * report it); the answer, the current token, replaces the cache, so the next `getToken` hands it
   * out too. `replaced` says whether this report caused a new token; when the report named a token
   * the broker no longer serves, the current one comes back with `replaced: false`.
   */
  reportRejected(profile: string, token: BrokerToken | string): Promise<BrokerToken & { replaced: boolean }>;
  /** Drops cached tokens (one profile, or all), e.g. after Genesys answered 401. */
  invalidate(profile?: string): void;
  /** When the cached token of a profile will be refreshed (epoch ms), if one is cached. */
  refreshAt(profile: string): number | undefined;
  /** The request layer, for calls this client has no method for. */
  readonly http: BrokerHttp;
}

interface Entry {
  token: BrokerToken;
  refreshAt: number;
}

/** First 12 hex of SHA-256, as the broker names tokens (the same as `fingerprint()` of @gtb/logger). */
function fingerprintOf(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

/** Answers that say the caller may no longer have the token: stop serving the cached one. */
const AUTHORITATIVE_DENIALS = [
  'ERR_PROFILE_NOT_ALLOWED', 'ERR_PROFILE_UNKNOWN', 'ERR_IDP_TOKEN_INVALID', 'ERR_IDP_UNKNOWN_ISSUER',
  // The identity itself is refused: not an accepted kind of token, or issued to a client not allowed.
  'ERR_IDP_TOKEN_TYPE', 'ERR_IDP_CLIENT_NOT_ALLOWED',
] as const;

/**
 * Builds a broker client. Tokens are cached per profile; past `refreshAhead` of the lifetime left
 * at receipt, one background refresh runs while callers keep getting the still-valid token (the
 * same refresh-ahead the broker applies to Genesys, one level down). Concurrent misses share one request.
 */
export function createBrokerClient(options: BrokerClientOptions): BrokerClient {
  const { refreshAhead = 0.8, minTtlSeconds = 60 } = options;
  if (typeof refreshAhead !== 'number' || !(refreshAhead > 0 && refreshAhead < 1)) {
    throw new GtbError('ERR_CONFIG_INVALID', 'option "refreshAhead" must be a number between 0 and 1');
  }
  if (!Number.isFinite(minTtlSeconds) || minTtlSeconds < 0) throw new GtbError('ERR_CONFIG_INVALID', 'option "minTtlSeconds" must be a number >= 0');
  const now = options.now ?? Date.now;
  const http = createBrokerHttp({ url: options.url, getIdentityToken: options.getIdentityToken, fetch: options.fetch, timeoutMs: options.timeoutMs, now });
  const api = createBrokerApi(http, now);
  const minTtlMs = minTtlSeconds * 1000;
  const cache = new Map<string, Entry>();
  const inflight = new Map<string, Promise<BrokerToken>>();

  function store(token: BrokerToken, receivedAt: number): void {
    // At least a second between refreshes, so a token near its end does not turn into a busy loop.
    const refreshAt = Math.max(receivedAt + 1000, receivedAt + refreshAhead * (token.expiresAt - receivedAt));
    cache.set(token.profile, { token, refreshAt });
  }

  function fetchToken(profile: string): Promise<BrokerToken> {
    const running = inflight.get(profile);
    if (running) return running;
    const request = (async () => {
      try {
        const answer = await http.request('GET', `/v1/tokens/${profile}`);
        const receivedAt = now();
        const token = parseTokenBody(answer.body, receivedAt);
        store(token, receivedAt);
        return token;
      } catch (err) {
        if (isBrokerClientError(err, ...AUTHORITATIVE_DENIALS)) cache.delete(profile);
        throw err;
      } finally {
        inflight.delete(profile);
      }
    })();
    inflight.set(profile, request);
    return request;
  }

  const reportRefreshError = (err: unknown, profile: string) => {
    try {
      options.onRefreshError?.(err instanceof GtbError ? err : new GtbError('ERR_INTERNAL', 'background refresh failed', { cause: err }), profile);
    } catch {
      // A throwing listener must not become an unhandled rejection.
    }
  };

  return {
    ...api,
    http,
    async getToken(profile, getOptions = {}) {
      assertProfile(profile);
      const entry = cache.get(profile);
      const t = now();
      if (entry && !getOptions.forceRefresh && t < entry.token.expiresAt - minTtlMs) {
        if (t >= entry.refreshAt && !inflight.has(profile)) fetchToken(profile).catch((err: unknown) => reportRefreshError(err, profile));
        return entry.token;
      }
      return fetchToken(profile);
    },
    async reportRejected(profile, token) {
      assertProfile(profile);
      const fp = typeof token === 'string' ? (/^[0-9a-f]{12}$/.test(token) ? token : fingerprintOf(token)) : token.fingerprint;
      try {
        const answer = await http.request('POST', `/v1/tokens/${profile}/rejected`, { fingerprint: fp });
        const receivedAt = now();
        const next = parseTokenBody(answer.body, receivedAt);
        store(next, receivedAt);
        const replaced = (answer.body as { replaced?: unknown }).replaced === true;
        return { ...next, replaced };
      } catch (err) {
        // Whatever the broker said, the rejected token must not be handed out again from here.
        if (cache.get(profile)?.token.fingerprint === fp) cache.delete(profile);
        throw err;
      }
    },
    invalidate(profile) {
      if (profile === undefined) cache.clear();
      else cache.delete(profile);
    },
    refreshAt: (profile) => cache.get(profile)?.refreshAt,
    async acquireLease(profile, holder, ttlSeconds) {
      const lease = await api.acquireLease(profile, holder, ttlSeconds);
      store(lease.token, now());
      return lease;
    },
    async renewLease(leaseId) {
      const lease = await api.renewLease(leaseId);
      store(lease.token, now());
      return lease;
    },
  };
}
