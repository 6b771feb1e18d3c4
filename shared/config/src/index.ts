export { loadConfig, deepFreeze, type LoadConfigOptions } from './load-config.js';
export { applyEnvOverrides } from './env-overrides.js';
export { resolveSecretRefs } from './secret-refs.js';
