import { GtbError } from '@gtb/errors';

/** RFC 6750 §2.1 b64token: what a bearer credential may consist of. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The token of an `Authorization: Bearer <token>` header value; throws MISSING or MALFORMED. */
export function bearerToken(headerValue: string | string[] | undefined | null): string {
  if (headerValue === undefined || headerValue === null || headerValue === '') {
    throw new GtbError('ERR_IDP_TOKEN_MISSING', 'Authorization header with a Bearer token required');
  }
  if (typeof headerValue !== 'string') {
    throw new GtbError('ERR_IDP_TOKEN_MALFORMED', 'exactly one Authorization header expected');
  }
  const match = /^Bearer +(\S+) *$/i.exec(headerValue);
  if (!match) {
    throw new GtbError('ERR_IDP_TOKEN_MALFORMED', 'Authorization header must be "Bearer <token>"');
  }
  const token = match[1]!;
  if (!B64TOKEN.test(token)) throw new GtbError('ERR_IDP_TOKEN_MALFORMED', 'bearer token has invalid characters');
  return token;
}

/** True when `token` has the bearer token character set. */
export function isB64Token(token: string): boolean {
  return B64TOKEN.test(token);
}
