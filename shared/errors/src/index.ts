export { ERROR_CATALOGUE, isErrorCode, type ErrorCode } from './catalogue.js';
export { GtbError, isGtbError, type GtbErrorOptions } from './gtb-error.js';
export { backoffDelay, exponentialDelay, type BackoffOptions } from './backoff.js';
export { type FetchLike } from './fetch-like.js';
export { NAME_PATTERN } from './names.js';
export { parseRetryAfter } from './retry-after.js';
