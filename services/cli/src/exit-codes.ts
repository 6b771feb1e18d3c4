import { GtbError, type ErrorCode } from '@gtb/errors';

/**
 * Exit codes scripts can rely on. They never change meaning; new ones are only added.
 */
export const EXIT = {
  /** Done. */
  OK: 0,
  /** Anything not listed below (and `gtb doctor` finding a problem). */
  FAILURE: 1,
  /** Bad command line: unknown command or option, missing argument. */
  USAGE: 2,
  /** Authentication failed: no usable IdP token, or the broker refused it (401). */
  AUTH: 3,
  /** Authenticated but not allowed: profile not granted, admin required (403). */
  NOT_ALLOWED: 4,
  /** Unknown profile or lease (404). */
  NOT_FOUND: 5,
  /** Broker, IdP, Redis or Genesys unreachable or unavailable (5xx, network). Retry later. */
  UNAVAILABLE: 6,
  /** The broker rate-limited this caller (429). Retry after the advertised delay. */
  RATE_LIMITED: 7,
  /** Settings missing or invalid (GTB_URL, identity, Redis URL, broker config file). */
  CONFIG: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_CODE: Partial<Record<ErrorCode, ExitCode>> = {
  ERR_USAGE: EXIT.USAGE,
  ERR_VALIDATION: EXIT.USAGE,
  ERR_CONFIG_INVALID: EXIT.CONFIG,
  ERR_CONFIG_FILE: EXIT.CONFIG,
  ERR_IDP_CREDENTIALS_REJECTED: EXIT.AUTH,
  ERR_IDP_UNAVAILABLE: EXIT.UNAVAILABLE,
  ERR_PROFILE_NOT_ALLOWED: EXIT.NOT_ALLOWED,
  ERR_ADMIN_REQUIRED: EXIT.NOT_ALLOWED,
  ERR_PROFILE_UNKNOWN: EXIT.NOT_FOUND,
  ERR_LEASE_NOT_FOUND: EXIT.NOT_FOUND,
  ERR_NOT_FOUND: EXIT.NOT_FOUND,
  ERR_RATE_LIMITED: EXIT.RATE_LIMITED,
  ERR_BROKER_UNREACHABLE: EXIT.UNAVAILABLE,
  ERR_REDIS_UNAVAILABLE: EXIT.UNAVAILABLE,
};

/** The exit code for an error. */
export function exitCodeFor(err: unknown): ExitCode {
  if (!(err instanceof GtbError)) return EXIT.FAILURE;
  const mapped = BY_CODE[err.code];
  if (mapped !== undefined) return mapped;
  if (err.code.startsWith('ERR_IDP_TOKEN_') || err.code === 'ERR_IDP_UNKNOWN_ISSUER' || err.code === 'ERR_IDP_ALG_NOT_ALLOWED' || err.status === 401) return EXIT.AUTH;
  if (err.status === 403) return EXIT.NOT_ALLOWED;
  if (err.status === 404) return EXIT.NOT_FOUND;
  if (err.code.startsWith('ERR_UPSTREAM_') || err.status >= 500) return EXIT.UNAVAILABLE;
  return EXIT.FAILURE;
}
