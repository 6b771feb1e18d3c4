export { createTokenService, type TokenService, type TokenServiceOptions } from './token-service.js';
export { profileConfigSchema, refreshPolicySchema, profileHosts, type ProfileConfig, type ProfileConfigInput } from './profile-config.js';
export { createKeyRing, keyRingConfigSchema, type KeyRing, type KeyRingConfig } from './key-ring.js';
export type { CachedToken, ProfileState, TokenObserver, TokenEventType, TokenEventData } from './types.js';
