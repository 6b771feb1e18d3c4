import { GtbError, parseRetryAfter, type FetchLike } from '@gtb/errors';
import { assertBaseUrl, assertTimeout, exchange, joinUrl, tryJson, type ReadResponse } from './http.js';

export interface GenesysApiOptions {
  /** `https://api.<domain>` (see `hostsFor`) or the sandbox's URL. */
  apiBaseUrl: string;
  fetch?: FetchLike;
  timeoutMs?: number;
  now?: () => number;
}

/** `GET /api/v2/tokens/me`: the fields the broker reads; the rest is kept as sent. */
export interface TokenInfo {
  organization?: { id?: string; name?: string };
  OAuthClient?: { id?: string; name?: string };
  [field: string]: unknown;
}

/** The Genesys Platform API calls the project makes (notifications come with the streamer). */
export interface GenesysApi {
  /** `DELETE /api/v2/tokens/me`: revokes the token used for the call. */
  revokeToken(token: string): Promise<void>;
  /** `GET /api/v2/tokens/me`: what Genesys knows about a token. */
  tokenInfo(token: string): Promise<TokenInfo>;
  /** One authenticated call returning the raw answer, for further endpoints built on this client. */
  request(token: string, method: string, path: string, body?: unknown): Promise<ReadResponse>;
}

/** Builds a Platform API client for one API host. */
export function createGenesysApi(options: GenesysApiOptions): GenesysApi {
  const base = assertBaseUrl('apiBaseUrl', options.apiBaseUrl);
  const fetchFn = options.fetch ?? globalThis.fetch;
  const timeoutMs = assertTimeout('timeoutMs', options.timeoutMs ?? 10_000);
  const now = options.now ?? Date.now;

  async function request(token: string, method: string, path: string, body?: unknown): Promise<ReadResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return exchange(fetchFn, joinUrl(base, path), {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }, timeoutMs, `Genesys ${method} ${path}`);
  }

  return {
    request,
    async revokeToken(token) {
      const res = await request(token, 'DELETE', '/api/v2/tokens/me');
      if (res.status >= 200 && res.status < 300) return;
      throw mapApiError(res, now(), 'DELETE /api/v2/tokens/me');
    },
    async tokenInfo(token) {
      const res = await request(token, 'GET', '/api/v2/tokens/me');
      if (res.status === 200) {
        const body = tryJson(res.text);
        if (body !== null && typeof body === 'object' && !Array.isArray(body)) return body as TokenInfo;
        throw new GtbError('ERR_UPSTREAM_REJECTED', 'GET /api/v2/tokens/me answered 200 without a JSON object');
      }
      throw mapApiError(res, now(), 'GET /api/v2/tokens/me');
    },
  };
}

/** Maps a failed Platform API answer (an ErrorBody; docs/genesys-behaviour.md § Rate limits) to a stable code. */
export function mapApiError(res: ReadResponse, nowMs: number, what: string): GtbError {
  const body = tryJson(res.text);
  const code = body !== null && typeof body === 'object' && typeof (body as { code?: unknown }).code === 'string'
    ? ((body as { code: string }).code).slice(0, 64)
    : undefined;
  const details = { upstreamStatus: res.status, ...(code === undefined ? {} : { upstreamCode: code }) };
  if (res.status === 429) {
    // The official Java SDK waits 3 s when a 429 has no Retry-After; so do we.
    const retryAfter = parseRetryAfter(res.headers.get('retry-after'), nowMs) ?? 3;
    return new GtbError('ERR_UPSTREAM_THROTTLED', `${what} answered 429`, { details, retryAfter });
  }
  if (res.status >= 500) return new GtbError('ERR_UPSTREAM_UNAVAILABLE', `${what} answered ${res.status}`, { details });
  return new GtbError('ERR_UPSTREAM_REJECTED', `${what} answered ${res.status}${code ? ` ${code}` : ''}`, { details });
}
