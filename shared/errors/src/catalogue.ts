/**
 * The catalogue of stable error codes: the one place that says which code means what and which
 * HTTP status it maps to. Tests and clients match on `code`; messages may change, codes may not.
 */
export const ERROR_CATALOGUE = {
  // configuration
  ERR_CONFIG_INVALID: { status: 500, title: 'Invalid configuration' },
  ERR_CONFIG_FILE: { status: 500, title: 'Configuration file unreadable' },
  // request validation
  ERR_BAD_REQUEST: { status: 400, title: 'Bad request' },
  ERR_VALIDATION: { status: 400, title: 'Request failed validation' },
  ERR_BODY_TOO_LARGE: { status: 413, title: 'Request body too large' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  ERR_NOT_FOUND: { status: 404, title: 'Not found' },
  ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  ERR_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  ERR_HEADERS_TOO_LARGE: { status: 431, title: 'Request headers too large' },
  ERR_REQUEST_TIMEOUT: { status: 408, title: 'Request not received in time' },
  // identity
  ERR_IDP_TOKEN_MISSING: { status: 401, title: 'Identity token missing' },
  ERR_IDP_TOKEN_MALFORMED: { status: 401, title: 'Identity token malformed' },
  ERR_IDP_TOKEN_INVALID: { status: 401, title: 'Identity token invalid' },
  ERR_IDP_TOKEN_EXPIRED: { status: 401, title: 'Identity token expired' },
  ERR_IDP_TOKEN_NOT_YET_VALID: { status: 401, title: 'Identity token not yet valid' },
  ERR_IDP_TOKEN_TOO_LARGE: { status: 401, title: 'Identity token too large' },
  // No longer sent: the broker answers an unknown issuer as ERR_IDP_TOKEN_INVALID, so that an outsider
  // cannot learn which issuers it trusts. Kept so that clients matching on it still compile.
  ERR_IDP_UNKNOWN_ISSUER: { status: 401, title: 'Identity token from an unknown issuer' },
  ERR_IDP_ALG_NOT_ALLOWED: { status: 401, title: 'Identity token algorithm not allowed' },
  ERR_IDP_TOKEN_TYPE: { status: 401, title: 'Identity token is not an accepted access token' },
  ERR_IDP_CLIENT_NOT_ALLOWED: { status: 401, title: 'Identity token issued to a client not allowed here' },
  ERR_IDP_UNAVAILABLE: { status: 503, title: 'Identity provider unavailable' },
  // policy
  ERR_PROFILE_NOT_ALLOWED: { status: 403, title: 'Profile not allowed' },
  ERR_ADMIN_REQUIRED: { status: 403, title: 'Administrator rights required' },
  ERR_PROFILE_UNKNOWN: { status: 404, title: 'Unknown profile' },
  // upstream (Genesys)
  ERR_UPSTREAM_THROTTLED: { status: 503, title: 'Genesys is throttling token requests' },
  ERR_UPSTREAM_UNAVAILABLE: { status: 503, title: 'Genesys is unavailable' },
  ERR_UPSTREAM_REJECTED: { status: 502, title: 'Genesys rejected the request' },
  ERR_UPSTREAM_TIMEOUT: { status: 504, title: 'Genesys did not answer in time' },
  ERR_CIRCUIT_OPEN: { status: 503, title: 'Genesys calls suspended after repeated failures' },
  // shared state
  ERR_REDIS_UNAVAILABLE: { status: 503, title: 'Redis unavailable' },
  ERR_LOCK_TIMEOUT: { status: 503, title: 'Timed out waiting for another replica' },
  ERR_FENCE_STALE: { status: 409, title: 'A newer token was already written' },
  ERR_DECRYPT: { status: 500, title: 'Cached token could not be decrypted' },
  // leases
  ERR_LEASE_NOT_FOUND: { status: 404, title: 'Lease not found' },
  // lifecycle
  ERR_SHUTTING_DOWN: { status: 503, title: 'Shutting down' },
  ERR_INTERNAL: { status: 500, title: 'Internal error' },
  // lifecycle events (@gtb/events)
  ERR_EVENT_INVALID: { status: 400, title: 'Lifecycle event failed validation' },
  ERR_EVENT_SECRET_IN_DATA: { status: 400, title: 'Lifecycle event data looks like it holds a secret' },
  // app client and CLI (@gtb/client, gtb)
  ERR_BROKER_UNREACHABLE: { status: 503, title: 'Broker unreachable' },
  ERR_BROKER_RESPONSE_INVALID: { status: 502, title: 'Broker answered something unexpected' },
  ERR_LEASE_LOST: { status: 410, title: 'Lease lost' },
  ERR_USAGE: { status: 400, title: 'Invalid command line' },
  ERR_IDP_CREDENTIALS_REJECTED: { status: 401, title: 'The IdP rejected the client credentials' },
  // streamer (services/streamer)
  ERR_TOPICS_REJECTED: { status: 502, title: 'Genesys rejected some of the stream topics' },
  ERR_STREAM_CONNECT_FAILED: { status: 502, title: 'Notification socket could not be opened' },
  ERR_OWNERSHIP_LOST: { status: 409, title: 'Stream ownership lost to another replica' },
} as const satisfies Record<string, { status: number; title: string }>;

/** Every stable error code. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** True when `code` is one of the catalogue's codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOGUE, code);
}
