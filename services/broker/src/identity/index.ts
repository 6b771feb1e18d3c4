export { createIdentityVerifier, type IdentityVerifier, type IdentityVerifierOptions, type IdentityVerifierStats } from './identity-verifier.js';
export { bearerToken } from './bearer-token.js';
export { type Identity } from './identity.js';
export {
  idpConfigSchema,
  idpListSchema,
  DEFAULT_ALGORITHMS,
  type IdpConfig,
  type IdpConfigInput,
} from './idp-config.js';
export { type FetchLike } from './idp-client.js';
