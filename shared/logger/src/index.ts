export { createLogger, SECRET_KEYS, redactSecrets, type Logger, type LoggerOptions } from './logger.js';
export { fingerprint, redactUri } from './fingerprint.js';
export { fixedLine, type FixedLine, type LineValue } from './fixed-line.js';
export { turnDestination, type TurnDestination, type TurnDestinationOptions } from './turn-destination.js';
