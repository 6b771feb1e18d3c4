import { errors as jose } from 'jose';
import { GtbError, type ErrorCode } from '@gtb/errors';

/**
 * Turns a jose verification failure into the broker's stable code. Key-set fetch failures are the
 * IdP's fault, not the caller's: they become ERR_IDP_UNAVAILABLE (503), never a 401.
 */
export function mapJoseError(err: unknown): GtbError {
  if (err instanceof GtbError) return err;
  const code = codeFor(err);
  return new GtbError(code, undefined, { cause: err });
}

function codeFor(err: unknown): ErrorCode {
  if (err instanceof jose.JWTExpired) return 'ERR_IDP_TOKEN_EXPIRED';
  if (err instanceof jose.JWTClaimValidationFailed) {
    if ((err.claim === 'nbf' || err.claim === 'iat') && err.reason === 'check_failed') return 'ERR_IDP_TOKEN_NOT_YET_VALID';
    return 'ERR_IDP_TOKEN_INVALID';
  }
  if (err instanceof jose.JOSEAlgNotAllowed) return 'ERR_IDP_ALG_NOT_ALLOWED';
  if (err instanceof jose.JWSInvalid || err instanceof jose.JWTInvalid) return 'ERR_IDP_TOKEN_MALFORMED';
  if (err instanceof jose.JWKSTimeout || err instanceof jose.JWKSInvalid) return 'ERR_IDP_UNAVAILABLE';
  // Signature mismatch, no key for the kid, several keys, unsupported crit or key type.
  return 'ERR_IDP_TOKEN_INVALID';
}
