export { ERROR_CATALOGUE, isErrorCode, type ErrorCode } from './catalogue.js';
export { GtbError, isGtbError, type GtbErrorOptions } from './gtb-error.js';
