import type { IdpConfig, TokenType } from './idp-config.js';
import { reject } from './rejection.js';

/** `typ` as RFC 7515 §4.1.9 compares it: case-insensitive, `application/` optional. */
function normalizedTyp(typ: unknown): string | undefined {
  if (typeof typ !== 'string') return undefined;
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/** The setting value a header's `typ` counts as, or undefined for a type that is never accepted. */
function typeOf(typ: unknown): TokenType | undefined {
  if (typ === undefined) return 'absent';
  const normalized = normalizedTyp(typ);
  if (normalized === 'at+jwt') return 'at+jwt';
  if (normalized === 'jwt') return 'JWT';
  return undefined;
}

const audiences = (aud: unknown): string[] => (Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : typeof aud === 'string' ? [aud] : []);

/**
 * Does a JWT without the at+jwt declaration look like an OpenID Connect ID token? A `nonce` or a
 * hash of a code, token or state (`c_hash`, `at_hash`, `s_hash`) appear only in ID tokens; and an
 * ID token's audience is the client it was issued to, with no scope, where an access token's is the
 * API it is for.
 */
function looksLikeIdToken(claims: Record<string, unknown>): boolean {
  if (['nonce', 'at_hash', 'c_hash', 's_hash'].some((c) => claims[c] !== undefined)) return true;
  const azp = claims['azp'];
  const scoped = claims['scope'] !== undefined || claims['scp'] !== undefined;
  return typeof azp === 'string' && audiences(claims['aud']).includes(azp) && !scoped;
}

/**
 * The checks on what a verified JWT is and whom it was issued to: an access token of an accepted
 * `typ` (never a security event or logout token), an ID token only where allowed, issued to an
 * allowed client. Run after the signature, issuer and audience checks, so that only a genuine token
 * of a trusted IdP gets these distinct codes.
 */
export function checkTokenKind(config: Pick<IdpConfig, 'acceptedTypes' | 'allowIdTokens' | 'allowedClients'>, typ: unknown, claims: Record<string, unknown>): void {
  const type = typeOf(typ);
  if (type === undefined || !config.acceptedTypes.includes(type)) {
    throw reject('ERR_IDP_TOKEN_TYPE', 'type', { message: `token type ${typeof typ === 'string' ? JSON.stringify(typ.slice(0, 40)) : 'absent'} is not accepted` });
  }
  // An RFC 9068 token declares itself an access token; the shape test is for JWT or untyped tokens.
  if (type !== 'at+jwt' && !config.allowIdTokens && looksLikeIdToken(claims)) {
    throw reject('ERR_IDP_TOKEN_TYPE', 'type', { message: 'ID tokens are not accepted; send an access token' });
  }
  if (config.allowedClients) checkClient(config.allowedClients, claims);
}

/** The OAuth client a token was issued to: `azp` (the authorized party) first, else `client_id`. */
export function clientIdOf(claims: Record<string, unknown>): string | undefined {
  const azp = claims['azp'];
  if (typeof azp === 'string' && azp) return azp;
  const clientId = claims['client_id'];
  return typeof clientId === 'string' && clientId ? clientId : undefined;
}

export function checkClient(allowed: readonly string[], claims: Record<string, unknown>): void {
  const client = clientIdOf(claims);
  if (client === undefined || !allowed.includes(client)) {
    throw reject('ERR_IDP_CLIENT_NOT_ALLOWED', 'client', { message: 'token was issued to a client not allowed here' });
  }
}
