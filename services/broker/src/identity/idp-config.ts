import { z } from 'zod';

/** Asymmetric JWS algorithms an IdP may be allowed to use. `none` is deliberately absent. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
] as const;
/** Symmetric algorithms; only usable with a configured `sharedSecret`. */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;

/**
 * JOSE `typ` values an IdP's access tokens may carry: `at+jwt` (RFC 9068, also as
 * `application/at+jwt`), `JWT`, or `absent` for no `typ` header. Anything else (`secevent+jwt`,
 * `logout+jwt`, …) is never an access token and is always refused.
 */
export const TOKEN_TYPES = ['at+jwt', 'JWT', 'absent'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

/** Dot-separated path to a claim, e.g. `realm_access.roles` (Keycloak). */
const claimPath = z.string().min(1).regex(/^[^.\s]+(\.[^.\s]+)*$/, 'a claim name or dot-separated path');

/** One IdP, identified by its issuer. */
export const idpConfigSchema = z
  .strictObject({
    /** The exact `iss` of its tokens; discovery runs against it. */
    issuer: z.url(),
    /** Label for logs; defaults to the issuer. */
    name: z.string().min(1).optional(),
    /** Accepted `aud` value(s); a token must name at least one. */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    algorithms: z.array(z.enum([...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS])).min(1).default([...DEFAULT_ALGORITHMS]),
    /** Enables HS* verification; at least 32 bytes, as RFC 7518 §3.2 asks for HS256. */
    sharedSecret: z.string().min(32).optional(),
    clockToleranceSec: z.number().int().min(0).max(300).default(30),
    maxTokenBytes: z.number().int().min(256).max(65_536).default(8192),
    /** Claims every token must carry, beyond `iss`, `aud`, `exp`. */
    requiredClaims: z.array(z.string().min(1)).default([]),
    /** JOSE `typ` values accepted: RFC 9068 `at+jwt` only by default; add `JWT` (Entra ID) or `absent` (Okta) where the IdP issues those. */
    acceptedTypes: z.array(z.enum(TOKEN_TYPES)).min(1).default(['at+jwt']),
    /** OAuth clients (`azp`, else `client_id`) whose tokens are accepted; absent: any client of this IdP. */
    allowedClients: z.array(z.string().min(1)).min(1).optional(),
    /** Accept OpenID Connect ID tokens as credentials (legacy apps only; needs `JWT` or `absent` in acceptedTypes). */
    allowIdTokens: z.boolean().default(false),
    claims: z
      .strictObject({ groups: claimPath.default('groups'), roles: claimPath.default('roles') })
      .default({ groups: 'groups', roles: 'roles' }),
    /** RFC 7662 introspection for opaque tokens. */
    introspection: z
      .strictObject({
        clientId: z.string().min(1),
        clientSecret: z.string().min(1),
        authMethod: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
        /** Cache time for an active answer that carries no `exp`. */
        defaultCacheSec: z.number().int().min(1).max(3600).default(60),
        /** Longest time an active answer is reused before asking again, whatever its `exp`: a revocation is noticed within it. */
        cacheSec: z.number().int().min(1).max(3600).default(60),
      })
      .optional(),
    jwks: z
      .strictObject({
        /** Minimum time between two JWKS fetches triggered by unknown kids; 0 is refused (each junk kid would fetch). */
        cooldownSec: z.number().min(1).max(3600).default(30),
        /** How long keys are trusted before a refetch. */
        cacheMaxAgeSec: z.number().min(1).max(86_400).default(600),
        /**
         * How long past cacheMaxAgeSec the last good keys still verify while refetches fail. One hour by
         * default: IdPs publish new keys well ahead of use and retire old ones slowly, so an hour-old key
         * set is almost always right and callers ride out an IdP outage; a key withdrawn in that hour is
         * still trusted, which bounds the exposure. 0: no stale keys.
         */
        staleKeysMaxSec: z.number().min(0).max(86_400).default(3600),
        /** Longest wait between JWKS fetch retries after failures (the wait doubles from 1 s up to this). */
        maxBackoffSec: z.number().min(1).max(3600).default(60),
      })
      .default({ cooldownSec: 30, cacheMaxAgeSec: 600, staleKeysMaxSec: 3600, maxBackoffSec: 60 }),
    /** Timeout of discovery, JWKS and introspection requests. */
    timeoutMs: z.number().int().min(100).max(60_000).default(5000),
    /** Allows an http:// issuer (tests and local development only). */
    allowInsecure: z.boolean().default(false),
  })
  .superRefine((idp, ctx) => {
    if (idp.algorithms.some((a) => a.startsWith('HS')) && !idp.sharedSecret) {
      ctx.addIssue({ code: 'custom', path: ['algorithms'], message: 'HS* algorithms need sharedSecret' });
    }
    if (idp.allowIdTokens && !idp.acceptedTypes.some((t) => t !== 'at+jwt')) {
      ctx.addIssue({ code: 'custom', path: ['allowIdTokens'], message: 'ID tokens carry typ JWT or none: add JWT or absent to acceptedTypes' });
    }
    if (!idp.allowInsecure && !idp.issuer.startsWith('https://')) {
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'issuer must be https:// unless allowInsecure is true' });
    }
  });

/** The configured IdPs; issuers are unique. */
export const idpListSchema = z
  .array(idpConfigSchema)
  .min(1)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((idp, i) => {
      if (seen.has(idp.issuer)) ctx.addIssue({ code: 'custom', path: [i, 'issuer'], message: `duplicate issuer ${idp.issuer}` });
      seen.add(idp.issuer);
    });
  });

/** One IdP's configuration after defaults. */
export type IdpConfig = z.output<typeof idpConfigSchema>;
/** What a configuration file may say for one IdP. */
export type IdpConfigInput = z.input<typeof idpConfigSchema>;

/** The verifier's memory of verified and of rejected tokens (keyed by the token's SHA-256). */
export const identityCacheSchema = z
  .strictObject({
    /** Verified tokens kept in memory per replica (least recently used go first). */
    verifiedMax: z.number().int().min(1).max(1_000_000).default(10_000),
    /** How long a rejected token is answered from memory with the same error, so a flood of one junk token costs one check; 0: off. */
    rejectedSec: z.number().min(0).max(3600).default(30),
    /** Rejected tokens kept in memory per replica. */
    rejectedMax: z.number().int().min(1).max(1_000_000).default(10_000),
  })
  .default({ verifiedMax: 10_000, rejectedSec: 30, rejectedMax: 10_000 });

export type IdentityCacheConfig = z.output<typeof identityCacheSchema>;
