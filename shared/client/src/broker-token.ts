import { BrokerClientError } from './broker-client-error.js';

/** A Genesys access token as the broker handed it out. Never log `accessToken`; log `fingerprint`. */
export interface BrokerToken {
  accessToken: string;
  tokenType: string;
  /** Epoch ms on this process's clock (from `expires_in`, so broker clock skew does not matter). */
  expiresAt: number;
  /** Where Genesys API calls for this profile go, e.g. `https://api.mypurecloud.com`. */
  apiBaseUrl: string;
  /** First 12 hex of the token's SHA-256: changes exactly when the token does. */
  fingerprint: string;
  profile: string;
}

/** A lease and the token that came with it. */
export interface BrokerLease {
  leaseId: string;
  profile: string;
  holder: string;
  /** Epoch ms. */
  leaseExpiresAt: number;
  /** Epoch ms: renew from here on. */
  renewAfter: number;
  token: BrokerToken;
}

function invalid(what: string): BrokerClientError {
  return new BrokerClientError('ERR_BROKER_RESPONSE_INVALID', `broker answer has no valid ${what}`);
}

function field(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== 'string' || v === '') throw invalid(name);
  return v;
}

function time(body: Record<string, unknown>, name: string): number {
  const ms = Date.parse(field(body, name));
  if (!Number.isFinite(ms)) throw invalid(name);
  return ms;
}

function objectOf(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('JSON object');
  return body as Record<string, unknown>;
}

/** Reads the broker's token answer (built by `tokenBody` in @gtb/genesys). */
export function parseTokenBody(raw: unknown, receivedAt: number): BrokerToken {
  const body = objectOf(raw);
  const expiresIn = body['expires_in'];
  let expiresAt: number;
  if (typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn >= 0) expiresAt = receivedAt + expiresIn * 1000;
  else expiresAt = time(body, 'expires_at');
  return {
    accessToken: field(body, 'access_token'),
    tokenType: typeof body['token_type'] === 'string' ? body['token_type'] : 'Bearer',
    expiresAt,
    apiBaseUrl: field(body, 'api_base_url'),
    fingerprint: field(body, 'fingerprint'),
    profile: field(body, 'profile'),
  };
}

/** Reads a lease answer: lease fields plus the token fields. */
export function parseLeaseBody(raw: unknown, receivedAt: number): BrokerLease {
  const body = objectOf(raw);
  const token = parseTokenBody(body, receivedAt);
  // Lease times are on the broker's clock. `expires_at` (broker clock) against `expires_in`
  // (relative) measures the skew; `expires_in` is floored, so under 2 s is noise, not skew.
  const brokerExpiresAt = Date.parse(String(body['expires_at']));
  const skew = Number.isFinite(brokerExpiresAt) ? brokerExpiresAt - token.expiresAt : 0;
  const shift = Math.abs(skew) >= 2000 ? skew : 0;
  return {
    leaseId: field(body, 'lease_id'),
    profile: field(body, 'profile'),
    holder: field(body, 'holder'),
    leaseExpiresAt: time(body, 'lease_expires_at') - shift,
    renewAfter: time(body, 'renew_after') - shift,
    token,
  };
}
