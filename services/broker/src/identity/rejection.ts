import { GtbError, isGtbError, type ErrorCode } from '@gtb/errors';

/**
 * Why a token was refused, as one short stable word: `err.details.reason` of every verifier error.
 * It is for logs and the `gtb_auth_failures_total{reason}` label, never for the caller: several
 * reasons share one code and message on purpose (an unknown issuer answers like a bad signature).
 */
export type RejectReason =
  | 'missing' | 'malformed' | 'too_large' | 'algorithm' | 'issuer' | 'signature' | 'key' | 'audience'
  | 'claims' | 'expired' | 'not_yet_valid' | 'type' | 'client' | 'subject' | 'inactive' | 'unavailable';

/** The reason an error of `code` has when nothing more precise was said. */
const REASON_OF_CODE: Partial<Record<ErrorCode, RejectReason>> = {
  ERR_IDP_TOKEN_MISSING: 'missing',
  ERR_IDP_TOKEN_MALFORMED: 'malformed',
  ERR_IDP_TOKEN_TOO_LARGE: 'too_large',
  ERR_IDP_TOKEN_EXPIRED: 'expired',
  ERR_IDP_TOKEN_NOT_YET_VALID: 'not_yet_valid',
  ERR_IDP_ALG_NOT_ALLOWED: 'algorithm',
  ERR_IDP_TOKEN_TYPE: 'type',
  ERR_IDP_CLIENT_NOT_ALLOWED: 'client',
  ERR_IDP_UNAVAILABLE: 'unavailable',
  ERR_IDP_TOKEN_INVALID: 'signature',
};

export interface RejectOptions {
  /** Only where the caller may read it; ERR_IDP_TOKEN_INVALID keeps the catalogue title (see above). */
  message?: string;
  cause?: unknown;
  retryAfter?: number;
}

/** A verifier error with its reason in `details.reason`. */
export function reject(code: ErrorCode, reason: RejectReason, options: RejectOptions = {}): GtbError {
  const { message, ...rest } = options;
  return new GtbError(code, message, { ...rest, details: { reason } });
}

/** The reason an error carries, if any. */
export function reasonOf(err: unknown): string | undefined {
  const reason = isGtbError(err) ? err.details?.['reason'] : undefined;
  return typeof reason === 'string' ? reason : undefined;
}

/** `err` as a GtbError that names its reason (derived from the code where it named none). */
export function withReason(err: unknown): GtbError {
  if (!isGtbError(err)) return reject('ERR_IDP_TOKEN_INVALID', 'signature', { cause: err });
  if (reasonOf(err) !== undefined) return err;
  const reason = REASON_OF_CODE[err.code] ?? 'claims';
  const options: ConstructorParameters<typeof GtbError>[2] = { details: { ...err.details, reason }, status: err.status };
  if (err.cause !== undefined) options.cause = err.cause;
  if (err.retryAfter !== undefined) options.retryAfter = err.retryAfter;
  return new GtbError(err.code, err.message, options);
}
