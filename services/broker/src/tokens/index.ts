export { createTokenService, type TokenService, type TokenServiceOptions } from './token-service.js';
export { profileConfigSchema, refreshPolicySchema, profileHosts, type ProfileConfig, type ProfileConfigInput } from './profile-config.js';
export { createKeyRing, keyRingConfigSchema, type KeyRing, type KeyRingConfig } from './key-ring.js';
export type { CachedToken, ProfileState, TokenObserver } from './types.js';
export { createProfileRegistry, type ProfileRegistry, type RegisteredProfile } from './profile-registry.js';
export { createTokenAccess, type TokenAccess, type Grant } from './token-access.js';
