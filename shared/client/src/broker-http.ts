import { GtbError, isGtbError, parseRetryAfter, type FetchLike } from '@gtb/errors';
import { BrokerClientError, codeForAnswer, type Problem } from './broker-client-error.js';

/**
 * Returns a current corporate IdP access token. `forceRefresh` is set when the broker found the
 * last one expired: a source that caches tokens should then fetch a new one.
 */
export type IdentityTokenSource = (options?: { forceRefresh?: boolean }) => Promise<string>;

export interface BrokerHttpOptions {
  /** The broker's base URL, e.g. `https://gtb.internal`. */
  url: string;
  /** Returns a current corporate IdP access token; called for every request (cache it yourself). */
  getIdentityToken: IdentityTokenSource;
  fetch?: FetchLike;
  /** Bound on one request, body included (default 10 000 ms). */
  timeoutMs?: number;
  /** Clock in epoch ms, for `Retry-After` dates. */
  now?: () => number;
}

export interface BrokerAnswer {
  status: number;
  body: unknown;
}

/** Authenticated JSON requests to the broker; any failure is a BrokerClientError. */
export interface BrokerHttp {
  readonly baseUrl: string;
  /** Sends one request; resolves for 2xx answers only. */
  request(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<BrokerAnswer>;
}

/** Throws ERR_CONFIG_INVALID naming the option unless `url` is an http(s) base URL. */
export function assertBrokerUrl(option: string, url: unknown): string {
  if (typeof url !== 'string' || url === '') throw new GtbError('ERR_CONFIG_INVALID', `option "${option}" must be the broker's base URL`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GtbError('ERR_CONFIG_INVALID', `option "${option}" is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new GtbError('ERR_CONFIG_INVALID', `option "${option}" must be an http(s) URL`);
  if (parsed.username || parsed.password) throw new GtbError('ERR_CONFIG_INVALID', `option "${option}" must not carry credentials`);
  return parsed.href.replace(/\/+$/, '');
}

function problemOf(body: unknown): Problem {
  if (body === null || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 500) : undefined);
  return { code: str(b['code']), title: str(b['title']), detail: str(b['detail']), requestId: str(b['requestId']) };
}

/** Builds the request layer the token client, the lease helper and the CLI share. */
export function createBrokerHttp(options: BrokerHttpOptions): BrokerHttp {
  const baseUrl = assertBrokerUrl('url', options.url);
  if (typeof options.getIdentityToken !== 'function') throw new GtbError('ERR_CONFIG_INVALID', 'option "getIdentityToken" must be a function');
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new GtbError('ERR_CONFIG_INVALID', 'option "timeoutMs" must be a positive number');
  const fetchFn: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const now = options.now ?? Date.now;

  async function identityToken(forceRefresh: boolean): Promise<string> {
    let token: unknown;
    try {
      token = await (forceRefresh ? options.getIdentityToken({ forceRefresh }) : options.getIdentityToken());
    } catch (err) {
      const code = isGtbError(err) ? err.code : 'ERR_IDP_UNAVAILABLE';
      throw new BrokerClientError(code, 'could not get an identity token to present to the broker', { cause: err });
    }
    // A header value with spaces or line breaks is no bearer token (and could split the header).
    if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)) {
      throw new BrokerClientError('ERR_IDP_TOKEN_MISSING', 'getIdentityToken returned no usable token');
    }
    return token;
  }

  async function once(method: string, path: string, body: unknown, forceRefresh = false): Promise<{ res: Response; text: string }> {
    const token = await identityToken(forceRefresh);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json, application/problem+json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetchFn(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        redirect: 'error',
      });
      return { res, text: await res.text() };
    } catch (err) {
      const why = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : 'connection failed';
      throw new BrokerClientError('ERR_BROKER_UNREACHABLE', `broker at ${baseUrl} unreachable: ${why}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    baseUrl,
    async request(method, path, body) {
      let { res, text } = await once(method, path, body);
      let parsed = parseJson(text);
      // An IdP token can expire between fetching and using it; one retry with a fresh one.
      if (res.status === 401 && problemOf(parsed).code === 'ERR_IDP_TOKEN_EXPIRED') {
        ({ res, text } = await once(method, path, body, true));
        parsed = parseJson(text);
      }
      if (res.ok) return { status: res.status, body: parsed };
      const problem = problemOf(parsed);
      const retryAfter = parseRetryAfter(res.headers.get('retry-after'), now());
      const message = problem.detail ?? problem.title ?? `broker answered ${res.status}`;
      throw new BrokerClientError(codeForAnswer(res.status, problem.code), message, { status: res.status, retryAfter, problem });
    },
  };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
