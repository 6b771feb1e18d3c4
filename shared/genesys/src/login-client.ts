import { GtbError, parseRetryAfter, type FetchLike } from '@gtb/errors';
import { assertBaseUrl, assertTimeout, exchange, joinUrl, tryJson } from './http.js';

/** A token as the login host returned it. `receivedAt` is the caller's clock (ms) when it arrived. */
export interface ClientCredentialsToken {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
  receivedAt: number;
}

export interface GenesysLoginOptions {
  /** `https://login.<domain>` (see `hostsFor`) or the sandbox's URL. */
  loginBaseUrl: string;
  fetch?: FetchLike;
  /** Bound on the whole exchange, body included. */
  timeoutMs?: number;
  /** The clock `receivedAt` and Retry-After dates are read from. */
  now?: () => number;
}

/** The Genesys login host: the client-credentials grant. */
export interface GenesysLogin {
  /** Mints a token; failures are GtbErrors with ERR_UPSTREAM_* codes and no secret in them. */
  clientCredentials(clientId: string, clientSecret: string): Promise<ClientCredentialsToken>;
}

/** Builds a login client for one login host (docs/genesys-behaviour.md § OAuth client credentials). */
export function createGenesysLogin(options: GenesysLoginOptions): GenesysLogin {
  const base = assertBaseUrl('loginBaseUrl', options.loginBaseUrl);
  const fetchFn = options.fetch ?? globalThis.fetch;
  const timeoutMs = assertTimeout('timeoutMs', options.timeoutMs ?? 10_000);
  const now = options.now ?? Date.now;
  const url = joinUrl(base, '/oauth/token');

  return {
    async clientCredentials(clientId, clientSecret) {
      if (!clientId || !clientSecret) throw new GtbError('ERR_CONFIG_INVALID', 'client id and client secret are required');
      // The official SDKs send plain base64(id:secret), not the RFC 6749 form-encoded variant.
      const basic = Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64');
      const res = await exchange(fetchFn, url, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: 'grant_type=client_credentials',
      }, timeoutMs, 'Genesys login');
      const body = tryJson(res.text);
      if (res.status === 200) return parseToken(body, now());
      throw mapLoginError(res.status, body, parseRetryAfter(res.headers.get('retry-after'), now()));
    },
  };
}

function parseToken(body: unknown, receivedAt: number): ClientCredentialsToken {
  if (body === null || typeof body !== 'object') {
    throw new GtbError('ERR_UPSTREAM_REJECTED', 'Genesys login answered 200 without a JSON object');
  }
  const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn } = body as Record<string, unknown>;
  if (typeof accessToken !== 'string' || accessToken.length === 0) {
    throw new GtbError('ERR_UPSTREAM_REJECTED', 'Genesys login answer has no access_token');
  }
  // No Genesys source fixes the casing of token_type (`bearer` or `Bearer`): compare case-insensitively.
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
    throw new GtbError('ERR_UPSTREAM_REJECTED', 'Genesys login answer has no bearer token_type');
  }
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new GtbError('ERR_UPSTREAM_REJECTED', 'Genesys login answer has no positive expires_in');
  }
  return { accessToken, tokenType: 'bearer', expiresIn, receivedAt };
}

/** Maps a failed answer of the login host to a stable code; only upstream codes go in the message. */
export function mapLoginError(status: number, body: unknown, retryAfter: number | undefined): GtbError {
  const fields = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const error = typeof fields.error === 'string' ? fields.error : undefined;
  const description = [fields.error_description, fields.description].find((d): d is string => typeof d === 'string') ?? '';
  const details = { upstreamStatus: status, ...(error === undefined ? {} : { upstreamError: error.slice(0, 64) }) };

  // The login host throttles with 400 invalid_request "rate limit exceeded; …", not 429
  // (docs/genesys-behaviour.md § Token endpoint throttling).
  if (status === 400 && error === 'invalid_request' && /^rate limit exceeded/i.test(description.trim())) {
    return new GtbError('ERR_UPSTREAM_THROTTLED', 'Genesys login is throttling token requests', { details, retryAfter });
  }
  if (status === 429) {
    return new GtbError('ERR_UPSTREAM_THROTTLED', 'Genesys login answered 429', { details, retryAfter });
  }
  if (status >= 500) {
    return new GtbError('ERR_UPSTREAM_UNAVAILABLE', `Genesys login answered ${status}`, { details });
  }
  if (status === 401 || error === 'invalid_client' || error === 'unauthorized_client') {
    return new GtbError('ERR_UPSTREAM_REJECTED', `Genesys login rejected the client credentials (${status} ${error ?? 'no error code'})`, { details });
  }
  return new GtbError('ERR_UPSTREAM_REJECTED', `Genesys login answered ${status} ${error ?? ''}`.trim(), { details });
}
