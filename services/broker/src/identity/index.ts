export { createIdentityVerifier, type IdentityVerifier, type IdentityVerifierOptions, type IdentityVerifierStats } from './identity-verifier.js';
export { bearerToken } from './bearer-token.js';
export { type Identity } from './identity.js';
export { type IdpStatus } from './idp-client.js';
export { type RejectReason } from './rejection.js';
export {
  idpConfigSchema,
  idpListSchema,
  identityCacheSchema,
  DEFAULT_ALGORITHMS,
  TOKEN_TYPES,
  type IdentityCacheConfig,
  type IdpConfig,
  type IdpConfigInput,
  type TokenType,
} from './idp-config.js';
