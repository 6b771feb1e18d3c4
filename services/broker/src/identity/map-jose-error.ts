import { errors as jose } from 'jose';
import { GtbError, type ErrorCode } from '@gtb/errors';
import { reject, type RejectReason } from './rejection.js';

/**
 * Turns a jose verification failure into the broker's stable code and reason. Key-set fetch failures
 * are the IdP's fault, not the caller's: they become ERR_IDP_UNAVAILABLE (503), never a 401.
 */
export function mapJoseError(err: unknown): GtbError {
  if (err instanceof GtbError) return err;
  const [code, reason] = classify(err);
  return reject(code, reason, { cause: err });
}

function classify(err: unknown): [ErrorCode, RejectReason] {
  if (err instanceof jose.JWTExpired) return ['ERR_IDP_TOKEN_EXPIRED', 'expired'];
  if (err instanceof jose.JWTClaimValidationFailed) {
    if ((err.claim === 'nbf' || err.claim === 'iat') && err.reason === 'check_failed') return ['ERR_IDP_TOKEN_NOT_YET_VALID', 'not_yet_valid'];
    if (err.claim === 'aud') return ['ERR_IDP_TOKEN_INVALID', 'audience'];
    if (err.claim === 'iss') return ['ERR_IDP_TOKEN_INVALID', 'issuer'];
    return ['ERR_IDP_TOKEN_INVALID', 'claims'];
  }
  if (err instanceof jose.JOSEAlgNotAllowed) return ['ERR_IDP_ALG_NOT_ALLOWED', 'algorithm'];
  if (err instanceof jose.JWSInvalid || err instanceof jose.JWTInvalid) return ['ERR_IDP_TOKEN_MALFORMED', 'malformed'];
  if (err instanceof jose.JWKSTimeout || err instanceof jose.JWKSInvalid) return ['ERR_IDP_UNAVAILABLE', 'unavailable'];
  // No key for the kid, or several: the token names a key its IdP does not publish.
  if (err instanceof jose.JWKSNoMatchingKey || err instanceof jose.JWKSMultipleMatchingKeys) return ['ERR_IDP_TOKEN_INVALID', 'key'];
  // Signature mismatch, unsupported crit or key type.
  return ['ERR_IDP_TOKEN_INVALID', 'signature'];
}
