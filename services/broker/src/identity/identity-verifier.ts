import { decodeJwt, decodeProtectedHeader } from 'jose';
import { GtbError, isGtbError, type FetchLike } from '@gtb/errors';
import { fingerprint, type Logger } from '@gtb/logger';
import { identityCacheSchema, type IdentityCacheConfig, type IdpConfig } from './idp-config.js';
import { IdpClient, type IdpStatus, type VerifiedClaims } from './idp-client.js';
import { toIdentity, type Identity } from './identity.js';
import { isB64Token } from './bearer-token.js';
import { VerifiedCache } from './verified-cache.js';
import { RejectedCache } from './rejected-cache.js';
import { reasonOf, reject, withReason } from './rejection.js';

export interface IdentityVerifierOptions {
  /**
   * The configured IdPs, as `idpListSchema` (inside brokerConfigSchema) output them: that schema is
   * the one place that validates them (non-empty, unique issuers, each setting); nothing is checked again here.
   */
  idps: readonly IdpConfig[];
  now?: () => number;
  logger: Logger;
  fetch?: FetchLike;
  /** The verified and rejected token caches (`identityCacheSchema` output; its defaults when absent). */
  cache?: IdentityCacheConfig;
}

/** Counters a test or a metrics exporter can read. */
export interface IdentityVerifierStats {
  /** JWT signature checks done (cache misses that reached jose). */
  jwtVerifications: number;
  /** Introspection requests sent. */
  introspections: number;
  cacheHits: number;
  /** Rejections answered from the rejected-token cache. */
  rejectedHits: number;
}

export interface IdentityVerifier {
  /** Verifies an IdP token (JWT or opaque) and returns who the caller is; throws GtbError. */
  verify(token: string): Promise<Identity>;
  /**
   * The identity `verify` found for this token earlier, while it is cached; never verifies,
   * never throws (undefined for anything else). For the hit path, which answers without awaiting.
   */
  cached(token: string): Identity | undefined;
  /**
   * True while at least one IdP can verify tokens (discovered, keys fresh or stale within bounds).
   * One IdP's outage must not take every replica out of service for the callers of the others;
   * `status()` says which IdP is down. Never throws.
   */
  ready(): Promise<boolean>;
  /** Each IdP's readiness and key state, in configuration order. Never throws. */
  status(): Promise<IdpStatus[]>;
  close(): Promise<void>;
  stats(): IdentityVerifierStats;
}

/** Builds the verifier for several IdPs at once, routing each JWT by its (unverified) issuer. */
export function createIdentityVerifier(options: IdentityVerifierOptions): IdentityVerifier {
  const now = options.now ?? Date.now;
  const { logger } = options;
  const settings = options.cache ?? identityCacheSchema.parse(undefined);
  const clients = options.idps.map((config) => new IdpClient(config, { now, logger, fetch: options.fetch }));
  const byIssuer = new Map(clients.map((c) => [c.config.issuer, c]));
  const introspectors = clients.filter((c) => c.config.introspection !== undefined);
  // The size limit applies before anything is parsed, so before the IdP is known: the largest.
  const maxBytes = Math.max(...clients.map((c) => c.config.maxTokenBytes));
  // Algorithms any IdP allows: `none`, or one no IdP uses, is refused before the issuer is looked at,
  // so that the answer is the same whether the token names a trusted issuer or not.
  const anyAlgorithm = new Set<string>(clients.flatMap((c) => c.config.algorithms));
  const cache = new VerifiedCache(settings.verifiedMax, now);
  const rejected = new RejectedCache(settings.rejectedMax, settings.rejectedSec * 1000, now);
  const inflight = new Map<string, Promise<Identity>>();
  const stats: IdentityVerifierStats = { jwtVerifications: 0, introspections: 0, cacheHits: 0, rejectedHits: 0 };
  let closed = false;

  const verifyJwt = async (token: string): Promise<{ idp: IdpClient; result: VerifiedClaims }> => {
    let iss: unknown;
    let alg: unknown;
    try {
      iss = decodeJwt(token).iss;
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw reject('ERR_IDP_TOKEN_MALFORMED', 'malformed');
    }
    if (typeof alg !== 'string' || !anyAlgorithm.has(alg)) throw reject('ERR_IDP_ALG_NOT_ALLOWED', 'algorithm');
    const idp = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
    // An unknown issuer answers exactly like a bad signature (code, status, message): a distinct
    // answer would tell anyone with a forged token which issuers the broker trusts. The reason
    // stays on the error for the log line and the failure metric.
    if (!idp) throw reject('ERR_IDP_TOKEN_INVALID', 'issuer');
    // Per-IdP limits past the global ones answer like a bad signature too, for the same reason.
    if (Buffer.byteLength(token) > idp.config.maxTokenBytes) throw reject('ERR_IDP_TOKEN_INVALID', 'too_large');
    // Checked here as well as by jose so that HS* never reaches key resolution.
    if (!(idp.config.algorithms as string[]).includes(alg)) throw reject('ERR_IDP_TOKEN_INVALID', 'algorithm');
    stats.jwtVerifications += 1;
    return { idp, result: await idp.verifyJwt(token) };
  };

  const verifyOpaque = async (token: string): Promise<{ idp: IdpClient; result: VerifiedClaims }> => {
    if (introspectors.length === 0) throw reject('ERR_IDP_TOKEN_MALFORMED', 'malformed', { message: 'token is not a JWT' });
    // An opaque token names no issuer: ask each introspecting IdP until one knows it.
    let failure: GtbError | undefined;
    for (const idp of introspectors) {
      try {
        stats.introspections += 1;
        return { idp, result: await idp.introspect(token) };
      } catch (err) {
        if (!isGtbError(err)) throw err;
        if (!failure || err.code === 'ERR_IDP_UNAVAILABLE') failure = err;
      }
    }
    throw failure ?? reject('ERR_IDP_TOKEN_INVALID', 'inactive');
  };

  const verifyUncached = async (token: string, key: string): Promise<Identity> => {
    const segments = token.split('.').length;
    if (segments === 5) throw reject('ERR_IDP_TOKEN_MALFORMED', 'malformed', { message: 'encrypted tokens are not supported' });
    const { idp, result } = segments === 3 ? await verifyJwt(token) : await verifyOpaque(token);
    const identity = toIdentity(idp.config, result.claims, token, result.expiresAt);
    deepFreeze(identity);
    cache.set(key, identity, result.cacheUntil);
    return identity;
  };

  const cached = (token: string): Identity | undefined => {
    // The same gates as verify's, in the same order; a bearer token's characters are ASCII, so length = bytes.
    if (closed || typeof token !== 'string' || token.length === 0 || token.length > maxBytes || !isB64Token(token)) return undefined;
    const identity = cache.get(VerifiedCache.keyOf(token));
    if (identity) stats.cacheHits += 1;
    return identity;
  };

  const verify = async (token: string): Promise<Identity> => {
    if (closed) throw new GtbError('ERR_SHUTTING_DOWN');
    if (typeof token !== 'string' || token.length === 0) throw reject('ERR_IDP_TOKEN_MISSING', 'missing');
    // Length first: a huge string is rejected before it is hashed, decoded or matched.
    if (token.length > maxBytes || Buffer.byteLength(token) > maxBytes) throw reject('ERR_IDP_TOKEN_TOO_LARGE', 'too_large');
    if (!isB64Token(token)) throw reject('ERR_IDP_TOKEN_MALFORMED', 'malformed');
    const key = VerifiedCache.keyOf(token);
    const hit = cache.get(key);
    if (hit) {
      stats.cacheHits += 1;
      return hit;
    }
    const refused = rejected.get(key);
    if (refused) {
      stats.rejectedHits += 1;
      throw refused;
    }
    // Concurrent requests with the same token share one verification.
    let pending = inflight.get(key);
    if (!pending) {
      pending = verifyUncached(token, key).catch((err: unknown) => {
        const gtb = withReason(err);
        if (remembersRejection(gtb)) rejected.set(key, gtb);
        throw gtb;
      }).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    try {
      return await pending;
    } catch (err) {
      const gtb = withReason(err);
      // The caller's answer hides some reasons (an unknown issuer looks like a bad signature); this
      // line keeps them. The request's own log line adds the request id (http/problem.ts).
      const line = { tokenFingerprint: fingerprint(token), code: gtb.code, reason: reasonOf(gtb) };
      if (gtb.code === 'ERR_IDP_UNAVAILABLE') logger.warn(line, 'identity token not verifiable now');
      else logger.debug(line, 'identity token rejected');
      throw gtb;
    }
  };

  const status = (): Promise<IdpStatus[]> => Promise.all(clients.map((c) => c.status()));

  return {
    verify,
    cached,
    async ready() {
      return (await status()).some((s) => s.ready);
    },
    status,
    async close() {
      closed = true;
      cache.clear();
      rejected.clear();
    },
    stats: () => ({ ...stats }),
  };
}

/**
 * Which rejections the rejected-token cache keeps: a token refused for what it is stays refused.
 * Not: the IdP being unreachable (503, says nothing about the token), a token not valid yet (it
 * will be), or one signed with a key not published yet (rotation: the next key set fetch, limited
 * by the JWKS cooldown, may bring it; a kid miss costs no signature check anyway).
 */
function remembersRejection(err: GtbError): boolean {
  const reason = reasonOf(err);
  return err.status === 401 && reason !== 'not_yet_valid' && reason !== 'key';
}

/** Identities are shared between requests through the cache, so nobody may change one. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
