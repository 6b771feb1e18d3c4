import { decodeJwt, decodeProtectedHeader } from 'jose';
import { GtbError, isGtbError } from '@gtb/errors';
import { fingerprint, type Logger } from '@gtb/logger';
import { idpListSchema, type IdpConfigInput } from './idp-config.js';
import { IdpClient, type FetchLike, type VerifiedClaims } from './idp-client.js';
import { toIdentity, type Identity } from './identity.js';
import { isB64Token } from './bearer-token.js';
import { VerifiedCache } from './verified-cache.js';

export interface IdentityVerifierOptions {
  /** The configured IdPs (schema input or already-parsed output; parsed again here). */
  idps: readonly IdpConfigInput[];
  now?: () => number;
  logger: Logger;
  fetch?: FetchLike;
  /** Verified tokens kept in memory (default 10,000). */
  cacheMax?: number;
}

/** Counters a test or a metrics exporter can read. */
export interface IdentityVerifierStats {
  /** JWT signature checks done (cache misses that reached jose). */
  jwtVerifications: number;
  /** Introspection requests sent. */
  introspections: number;
  cacheHits: number;
}

export interface IdentityVerifier {
  /** Verifies an IdP token (JWT or opaque) and returns who the caller is; throws GtbError. */
  verify(token: string): Promise<Identity>;
  /**
   * The identity `verify` found for this token earlier, while it is cached; never verifies,
   * never throws (undefined for anything else). For the hit path, which answers without awaiting.
   */
  cached(token: string): Identity | undefined;
  /** True when every IdP is discovered and its keys are loaded. Never throws. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
  stats(): IdentityVerifierStats;
}

/** Builds the verifier for several IdPs at once, routing each JWT by its (unverified) issuer. */
export function createIdentityVerifier(options: IdentityVerifierOptions): IdentityVerifier {
  const parsed = idpListSchema.safeParse(options.idps);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GtbError('ERR_CONFIG_INVALID', `setting idps.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const now = options.now ?? Date.now;
  const { logger } = options;
  const clients = parsed.data.map((config) => new IdpClient(config, { now, logger, fetch: options.fetch }));
  const byIssuer = new Map(clients.map((c) => [c.config.issuer, c]));
  const introspectors = clients.filter((c) => c.config.introspection !== undefined);
  // The size limit applies before anything is parsed, so before the IdP is known: the largest.
  const maxBytes = Math.max(...clients.map((c) => c.config.maxTokenBytes));
  const cache = new VerifiedCache(options.cacheMax ?? 10_000, now);
  const inflight = new Map<string, Promise<Identity>>();
  const stats: IdentityVerifierStats = { jwtVerifications: 0, introspections: 0, cacheHits: 0 };
  let closed = false;

  const verifyJwt = async (token: string): Promise<{ idp: IdpClient; result: VerifiedClaims }> => {
    let iss: unknown;
    let alg: unknown;
    try {
      iss = decodeJwt(token).iss;
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new GtbError('ERR_IDP_TOKEN_MALFORMED');
    }
    const idp = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
    if (!idp) throw new GtbError('ERR_IDP_UNKNOWN_ISSUER');
    if (Buffer.byteLength(token) > idp.config.maxTokenBytes) throw new GtbError('ERR_IDP_TOKEN_TOO_LARGE');
    // Checked here as well as by jose so that `none` and HS* never reach key resolution.
    if (typeof alg !== 'string' || !(idp.config.algorithms as string[]).includes(alg)) {
      throw new GtbError('ERR_IDP_ALG_NOT_ALLOWED');
    }
    stats.jwtVerifications += 1;
    return { idp, result: await idp.verifyJwt(token) };
  };

  const verifyOpaque = async (token: string): Promise<{ idp: IdpClient; result: VerifiedClaims }> => {
    if (introspectors.length === 0) throw new GtbError('ERR_IDP_TOKEN_MALFORMED', 'token is not a JWT');
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
    throw failure ?? new GtbError('ERR_IDP_TOKEN_INVALID');
  };

  const verifyUncached = async (token: string, key: string): Promise<Identity> => {
    const segments = token.split('.').length;
    if (segments === 5) throw new GtbError('ERR_IDP_TOKEN_MALFORMED', 'encrypted tokens are not supported');
    const { idp, result } = segments === 3 ? await verifyJwt(token) : await verifyOpaque(token);
    const identity = toIdentity(idp.config, result.claims, token, result.expiresAt);
    if (!identity.subject) throw new GtbError('ERR_IDP_TOKEN_INVALID', 'token names no subject or client');
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
    if (typeof token !== 'string' || token.length === 0) throw new GtbError('ERR_IDP_TOKEN_MISSING');
    // Length first: a huge string is rejected before it is hashed, decoded or matched.
    if (token.length > maxBytes || Buffer.byteLength(token) > maxBytes) throw new GtbError('ERR_IDP_TOKEN_TOO_LARGE');
    if (!isB64Token(token)) throw new GtbError('ERR_IDP_TOKEN_MALFORMED');
    const key = VerifiedCache.keyOf(token);
    const cached = cache.get(key);
    if (cached) {
      stats.cacheHits += 1;
      return cached;
    }
    // Concurrent requests with the same token share one verification.
    let pending = inflight.get(key);
    if (!pending) {
      pending = verifyUncached(token, key).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    try {
      return await pending;
    } catch (err) {
      const gtb = isGtbError(err) ? err : new GtbError('ERR_IDP_TOKEN_INVALID', undefined, { cause: err });
      const line = { tokenFingerprint: fingerprint(token), code: gtb.code };
      if (gtb.code === 'ERR_IDP_UNAVAILABLE') logger.warn(line, 'identity token not verifiable now');
      else logger.debug(line, 'identity token rejected');
      throw gtb;
    }
  };

  return {
    verify,
    cached,
    async ready() {
      const results = await Promise.all(clients.map((c) => c.ready()));
      return results.every(Boolean);
    },
    async close() {
      closed = true;
      cache.clear();
    },
    stats: () => ({ ...stats }),
  };
}

/** Identities are shared between requests through the cache, so nobody may change one. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
