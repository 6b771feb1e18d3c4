export { createLogger, SECRET_KEYS, redactSecrets, type Logger, type LoggerOptions } from './logger.js';
export { fingerprint, redactUri } from './fingerprint.js';
