import * as oidc from 'openid-client';
import {
  createRemoteJWKSet,
  customFetch as joseCustomFetch,
  errors as jose,
  jwtVerify,
  type JWTHeaderParameters,
  type FlattenedJWSInput,
} from 'jose';
import { GtbError } from '@gtb/errors';
import type { Logger } from '@gtb/logger';
import type { IdpConfig } from './idp-config.js';
import { mapJoseError } from './map-jose-error.js';

/** After a failed discovery, callers fail fast for this long instead of hammering a down IdP. */
const DISCOVERY_RETRY_MS = 5000;

/** A fetch implementation, injected so tests can count or fail requests. */
export type FetchLike = typeof globalThis.fetch;

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

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;

/**
 * One configured IdP: discovery (openid-client), its remote key set (jose, with rotation and a
 * refetch cooldown), JWT verification and RFC 7662 introspection. Discovery is lazy and retried,
 * so the broker starts even while an IdP is down and answers 503 for its tokens meanwhile.
 */
export class IdpClient {
  readonly config: IdpConfig;
  readonly #deps: IdpClientDeps;
  readonly #audiences: string[];
  readonly #secret: Uint8Array | undefined;
  #discovery: Promise<oidc.Configuration> | undefined;
  #failedAt: number | undefined;
  #jwks: RemoteJwks | undefined;
  #keysLoaded = false;

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
      return Promise.reject(new GtbError('ERR_IDP_UNAVAILABLE', `identity provider ${this.label} unavailable`, { retryAfter: 5 }));
    }
    const attempt = this.#runDiscovery().catch((err: unknown) => {
      this.#discovery = undefined;
      this.#failedAt = this.#deps.now();
      this.#deps.logger.warn({ issuer: this.config.issuer, err: errorSummary(err) }, 'identity provider discovery failed');
      throw new GtbError('ERR_IDP_UNAVAILABLE', `identity provider ${this.label} unavailable`, { cause: err, retryAfter: 5 });
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
    if (jwksUri) {
      const jwksOptions: Parameters<typeof createRemoteJWKSet>[1] = {
        cooldownDuration: config.jwks.cooldownSec * 1000,
        cacheMaxAge: config.jwks.cacheMaxAgeSec * 1000,
        timeoutDuration: config.timeoutMs,
      };
      if (fetchImpl) jwksOptions[joseCustomFetch] = (url, init) => fetchImpl(url, init);
      this.#jwks = createRemoteJWKSet(new URL(jwksUri), jwksOptions);
    } else if (!intro) {
      throw new Error('discovery document has no jwks_uri and no introspection is configured');
    }
    return discovered;
  }

  /** True once discovery succeeded and the key set was fetched at least once. */
  async ready(): Promise<boolean> {
    try {
      await this.discover();
      if (this.#jwks && !this.#keysLoaded) {
        await this.#jwks.reload();
        this.#keysLoaded = true;
      }
      return true;
    } catch (err) {
      this.#deps.logger.warn({ issuer: this.config.issuer, err: errorSummary(err) }, 'identity provider not ready');
      return false;
    }
  }

  /** Verifies a JWT already routed here by its `iss`. */
  async verifyJwt(token: string): Promise<VerifiedClaims> {
    await this.discover();
    const jwks = this.#jwks;
    if (!jwks) throw new GtbError('ERR_IDP_TOKEN_INVALID', 'this identity provider issues no JWTs');
    const { config } = this;
    const now = this.#deps.now();
    const getKey = async (header: JWTHeaderParameters, input: FlattenedJWSInput) => {
      if (header.alg.startsWith('HS')) {
        if (this.#secret) return this.#secret;
        throw new GtbError('ERR_IDP_ALG_NOT_ALLOWED');
      }
      try {
        const key = await jwks(header, input);
        this.#keysLoaded = true;
        return key;
      } catch (err) {
        // A missing or ambiguous key is the token's problem; anything else (network, timeout,
        // non-200, bad JSON) means the IdP cannot be asked right now.
        if (err instanceof jose.JWKSNoMatchingKey || err instanceof jose.JWKSMultipleMatchingKeys || err instanceof jose.JOSENotSupported) throw err;
        this.#deps.logger.warn({ issuer: config.issuer, err: errorSummary(err) }, 'identity provider key set unavailable');
        throw new GtbError('ERR_IDP_UNAVAILABLE', `identity provider ${this.label} key set unavailable`, { cause: err, retryAfter: 5 });
      }
    };
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        issuer: config.issuer,
        audience: this.#audiences,
        algorithms: config.algorithms,
        clockTolerance: config.clockToleranceSec,
        currentDate: new Date(now),
        requiredClaims: ['exp', ...config.requiredClaims],
      }));
    } catch (err) {
      throw mapJoseError(err);
    }
    // jose checks `iat` only with maxTokenAge; a token issued in the future is not valid yet.
    const iat = payload['iat'];
    if (typeof iat === 'number' && iat * 1000 > now + config.clockToleranceSec * 1000) {
      throw new GtbError('ERR_IDP_TOKEN_NOT_YET_VALID');
    }
    const expiresAt = (payload['exp'] as number) * 1000;
    return { claims: payload, expiresAt, cacheUntil: expiresAt };
  }

  /** Introspects an opaque token (RFC 7662); inactive tokens are ERR_IDP_TOKEN_INVALID. */
  async introspect(token: string): Promise<VerifiedClaims> {
    const intro = this.config.introspection;
    if (!intro) throw new GtbError('ERR_IDP_TOKEN_MALFORMED', 'token is not a JWT');
    const discovered = await this.discover();
    let answer: oidc.IntrospectionResponse;
    try {
      answer = await oidc.tokenIntrospection(discovered, token, { token_type_hint: 'access_token' });
    } catch (err) {
      this.#deps.logger.warn({ issuer: this.config.issuer, err: errorSummary(err) }, 'token introspection failed');
      throw new GtbError('ERR_IDP_UNAVAILABLE', `identity provider ${this.label} introspection failed`, { cause: err, retryAfter: 5 });
    }
    return this.#checkIntrospection({ ...answer }, intro.defaultCacheSec);
  }

  #checkIntrospection(claims: Record<string, unknown>, defaultCacheSec: number): VerifiedClaims {
    const { config } = this;
    const now = this.#deps.now();
    const tolerance = config.clockToleranceSec * 1000;
    if (claims['active'] !== true) throw new GtbError('ERR_IDP_TOKEN_INVALID');
    if (claims['iss'] !== undefined && claims['iss'] !== config.issuer) throw new GtbError('ERR_IDP_TOKEN_INVALID');
    const tokenType = claims['token_type'];
    // Only bearer access tokens: a refresh token or a sender-constrained token is not a credential here.
    if (tokenType !== undefined && String(tokenType).toLowerCase() !== 'bearer') throw new GtbError('ERR_IDP_TOKEN_INVALID');
    const aud = claims['aud'];
    if (aud !== undefined) {
      const auds = Array.isArray(aud) ? aud : [aud];
      if (!auds.some((a) => typeof a === 'string' && this.#audiences.includes(a))) throw new GtbError('ERR_IDP_TOKEN_INVALID');
    }
    for (const claim of config.requiredClaims) {
      if (claims[claim] === undefined) throw new GtbError('ERR_IDP_TOKEN_INVALID');
    }
    const exp = claims['exp'];
    const nbf = claims['nbf'];
    if (typeof exp === 'number' && exp * 1000 <= now - tolerance) throw new GtbError('ERR_IDP_TOKEN_EXPIRED');
    if (typeof nbf === 'number' && nbf * 1000 > now + tolerance) throw new GtbError('ERR_IDP_TOKEN_NOT_YET_VALID');
    // Without an `exp` the answer is trusted (and cached) only for a short default.
    const expiresAt = typeof exp === 'number' ? exp * 1000 : now + defaultCacheSec * 1000;
    return { claims, expiresAt, cacheUntil: expiresAt };
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
