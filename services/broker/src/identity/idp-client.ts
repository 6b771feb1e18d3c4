import * as oidc from 'openid-client';
import { errors as jose, jwtVerify, type JWTHeaderParameters, type FlattenedJWSInput } from 'jose';
import { isGtbError, type FetchLike } from '@gtb/errors';
import type { Logger } from '@gtb/logger';
import type { IdpConfig } from './idp-config.js';
import { mapJoseError } from './map-jose-error.js';
import { KeySet, type KeySetState } from './key-set.js';
import { reject } from './rejection.js';
import { checkClient, checkTokenKind } from './token-kind.js';

/** After a failed discovery, callers fail fast for this long instead of hammering a down IdP. */
const DISCOVERY_RETRY_MS = 5000;

export interface IdpClientDeps {
  now: () => number;
  logger: Logger;
  fetch?: FetchLike | undefined;
}

/** Claims that passed verification and the time they stop being valid (ms). */
export interface VerifiedClaims {
  claims: Record<string, unknown>;
  expiresAt: number;
  /** How long the result may be cached (ms epoch), never past `expiresAt`. */
  cacheUntil: number;
}

/** One IdP's state for readiness: can it verify tokens now, and how old are its keys. */
export interface IdpStatus {
  name: string;
  ready: boolean;
  /** `none` also for an IdP that only introspects. */
  keys: KeySetState;
}

/**
 * One configured IdP: discovery (openid-client), its key set (key-set.ts: rotation, a refetch
 * cooldown, backoff and bounded stale keys), JWT verification and RFC 7662 introspection. Discovery
 * is lazy and retried, so the broker starts even while an IdP is down and answers 503 for its
 * tokens meanwhile.
 */
export class IdpClient {
  readonly config: IdpConfig;
  readonly #deps: IdpClientDeps;
  readonly #audiences: string[];
  readonly #secret: Uint8Array | undefined;
  #discovery: Promise<oidc.Configuration> | undefined;
  #failedAt: number | undefined;
  #jwks: KeySet | undefined;

  constructor(config: IdpConfig, deps: IdpClientDeps) {
    this.config = config;
    this.#deps = deps;
    this.#audiences = Array.isArray(config.audience) ? config.audience : [config.audience];
    this.#secret = config.sharedSecret ? new TextEncoder().encode(config.sharedSecret) : undefined;
  }

  get label(): string {
    return this.config.name ?? this.config.issuer;
  }

  /** Runs discovery once (retrying after failures); throws ERR_IDP_UNAVAILABLE while it cannot. */
  discover(): Promise<oidc.Configuration> {
    if (this.#discovery) return this.#discovery;
    if (this.#failedAt !== undefined && this.#deps.now() - this.#failedAt < DISCOVERY_RETRY_MS) {
      return Promise.reject(reject('ERR_IDP_UNAVAILABLE', 'unavailable', { message: `identity provider ${this.label} unavailable`, retryAfter: 5 }));
    }
    const attempt = this.#runDiscovery().catch((err: unknown) => {
      this.#discovery = undefined;
      this.#failedAt = this.#deps.now();
      this.#deps.logger.warn({ issuer: this.config.issuer, err: errorSummary(err) }, 'identity provider discovery failed');
      throw reject('ERR_IDP_UNAVAILABLE', 'unavailable', { message: `identity provider ${this.label} unavailable`, cause: err, retryAfter: 5 });
    });
    this.#discovery = attempt;
    return attempt;
  }

  async #runDiscovery(): Promise<oidc.Configuration> {
    const { config } = this;
    const fetchImpl = this.#deps.fetch;
    const options: oidc.DiscoveryRequestOptions = { timeout: Math.max(1, Math.ceil(config.timeoutMs / 1000)) };
    if (config.allowInsecure) options.execute = [oidc.allowInsecureRequests];
    if (fetchImpl) options[oidc.customFetch] = (url, init) => fetchImpl(url, init as RequestInit);
    const intro = config.introspection;
    const auth = intro
      ? intro.authMethod === 'client_secret_post' ? oidc.ClientSecretPost(intro.clientSecret) : oidc.ClientSecretBasic(intro.clientSecret)
      : oidc.None();
    // Without introspection the broker is a pure resource server; openid-client still wants a client id.
    const discovered = await oidc.discovery(new URL(config.issuer), intro?.clientId ?? 'gtb-broker', undefined, auth, options);
    const jwksUri = discovered.serverMetadata().jwks_uri;
    if (jwksUri && !config.allowInsecure && !jwksUri.startsWith('https://')) {
      throw new Error('discovery names a jwks_uri that is not https://');
    }
    if (jwksUri) {
      this.#jwks = new KeySet({
        url: new URL(jwksUri),
        label: this.label,
        now: this.#deps.now,
        logger: this.#deps.logger,
        fetch: fetchImpl ?? globalThis.fetch,
        timeoutMs: config.timeoutMs,
        cooldownMs: config.jwks.cooldownSec * 1000,
        cacheMaxAgeMs: config.jwks.cacheMaxAgeSec * 1000,
        staleMaxMs: config.jwks.staleKeysMaxSec * 1000,
        maxBackoffMs: config.jwks.maxBackoffSec * 1000,
      });
    } else if (!intro) {
      throw new Error('discovery document has no jwks_uri and no introspection is configured');
    }
    return discovered;
  }

  /**
   * True once discovery succeeded and the keys can verify (fresh, or stale within staleKeysMaxSec);
   * refreshes keys that are not fresh, unless the key set is backing off after failures.
   */
  async ready(): Promise<boolean> {
    try {
      await this.discover();
    } catch (err) {
      this.#deps.logger.warn({ issuer: this.config.issuer, err: errorSummary(err) }, 'identity provider not ready');
      return false;
    }
    if (!this.#jwks) return true;
    await this.#jwks.refresh();
    return this.#jwks.usable();
  }

  /** This IdP's readiness and the state of its keys. */
  async status(): Promise<IdpStatus> {
    const ready = await this.ready();
    return { name: this.config.name ?? this.config.issuer, ready, keys: this.#jwks?.state() ?? 'none' };
  }

  /** Verifies a JWT already routed here by its `iss`. */
  async verifyJwt(token: string): Promise<VerifiedClaims> {
    await this.discover();
    const jwks = this.#jwks;
    if (!jwks) throw reject('ERR_IDP_TOKEN_INVALID', 'key');
    const { config } = this;
    const now = this.#deps.now();
    const getKey = async (header: JWTHeaderParameters, input: FlattenedJWSInput) => {
      if (header.alg.startsWith('HS')) {
        if (this.#secret) return this.#secret;
        throw reject('ERR_IDP_ALG_NOT_ALLOWED', 'algorithm');
      }
      try {
        return await jwks.getKey(header, input);
      } catch (err) {
        // A missing or ambiguous key is the token's problem; the key set reports its own outages.
        if (err instanceof jose.JWKSNoMatchingKey || err instanceof jose.JWKSMultipleMatchingKeys || err instanceof jose.JOSENotSupported) throw err;
        if (isGtbError(err)) throw err;
        throw reject('ERR_IDP_UNAVAILABLE', 'unavailable', { message: `identity provider ${this.label} key set unavailable`, cause: err, retryAfter: 5 });
      }
    };
    let payload: Record<string, unknown>;
    let typ: unknown;
    try {
      let protectedHeader: JWTHeaderParameters;
      ({ payload, protectedHeader } = await jwtVerify(token, getKey, {
        issuer: config.issuer,
        audience: this.#audiences,
        algorithms: config.algorithms,
        clockTolerance: config.clockToleranceSec,
        currentDate: new Date(now),
        requiredClaims: ['exp', ...config.requiredClaims],
      }));
      typ = protectedHeader.typ;
    } catch (err) {
      throw mapJoseError(err);
    }
    // jose checks `iat` only with maxTokenAge; a token issued in the future is not valid yet.
    const iat = payload['iat'];
    if (typeof iat === 'number' && iat * 1000 > now + config.clockToleranceSec * 1000) {
      throw reject('ERR_IDP_TOKEN_NOT_YET_VALID', 'not_yet_valid');
    }
    checkTokenKind(config, typ, payload);
    const expiresAt = (payload['exp'] as number) * 1000;
    return { claims: payload, expiresAt, cacheUntil: expiresAt };
  }

  /** Introspects an opaque token (RFC 7662); inactive tokens are ERR_IDP_TOKEN_INVALID. */
  async introspect(token: string): Promise<VerifiedClaims> {
    const intro = this.config.introspection;
    if (!intro) throw reject('ERR_IDP_TOKEN_MALFORMED', 'malformed', { message: 'token is not a JWT' });
    const discovered = await this.discover();
    let answer: oidc.IntrospectionResponse;
    try {
      answer = await oidc.tokenIntrospection(discovered, token, { token_type_hint: 'access_token' });
    } catch (err) {
      this.#deps.logger.warn({ issuer: this.config.issuer, err: errorSummary(err) }, 'token introspection failed');
      throw reject('ERR_IDP_UNAVAILABLE', 'unavailable', { message: `identity provider ${this.label} introspection failed`, cause: err, retryAfter: 5 });
    }
    return this.#checkIntrospection({ ...answer }, intro);
  }

  #checkIntrospection(claims: Record<string, unknown>, intro: NonNullable<IdpConfig['introspection']>): VerifiedClaims {
    const { config } = this;
    const now = this.#deps.now();
    const tolerance = config.clockToleranceSec * 1000;
    const invalid = (reason: Parameters<typeof reject>[1]) => reject('ERR_IDP_TOKEN_INVALID', reason);
    if (claims['active'] !== true) throw invalid('inactive');
    // RFC 7662 makes `iss` and `aud` optional; without them nothing says the token was issued by
    // this IdP for the broker (an IdP answers for all its tokens), so both are required.
    if (claims['iss'] !== config.issuer) throw invalid('issuer');
    const tokenType = claims['token_type'];
    // Only bearer access tokens: a refresh token or a sender-constrained token is not a credential here.
    if (tokenType !== undefined && String(tokenType).toLowerCase() !== 'bearer') throw reject('ERR_IDP_TOKEN_TYPE', 'type');
    const aud = claims['aud'];
    const auds = Array.isArray(aud) ? aud : [aud];
    if (!auds.some((a) => typeof a === 'string' && this.#audiences.includes(a))) throw invalid('audience');
    for (const claim of config.requiredClaims) {
      if (claims[claim] === undefined) throw invalid('claims');
    }
    if (config.allowedClients) checkClient(config.allowedClients, claims);
    const exp = claims['exp'];
    const nbf = claims['nbf'];
    if (typeof exp === 'number' && exp * 1000 <= now - tolerance) throw reject('ERR_IDP_TOKEN_EXPIRED', 'expired');
    if (typeof nbf === 'number' && nbf * 1000 > now + tolerance) throw reject('ERR_IDP_TOKEN_NOT_YET_VALID', 'not_yet_valid');
    // Without an `exp` the answer is trusted only for a short default.
    const expiresAt = typeof exp === 'number' ? exp * 1000 : now + intro.defaultCacheSec * 1000;
    // The IdP is asked again after cacheSec even if the token lives longer: that is how long a
    // revocation at the IdP can go unnoticed here.
    return { claims, expiresAt, cacheUntil: Math.min(expiresAt, now + intro.cacheSec * 1000) };
  }
}

/** What a log line may say about an error: its class, code and message, no stack, no token. */
export function errorSummary(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { type: err.name, code: typeof code === 'string' ? code : undefined, message: err.message };
  }
  return { type: typeof err };
}
