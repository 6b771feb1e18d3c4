import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response, RequestHandler } from 'express';
import type { Logger } from '@gtb/logger';
import { NAME_PATTERN } from '@gtb/errors';
import { tokenBody, type TokenBodyFields } from '@gtb/genesys';
import { bearerToken } from '../identity/index.js';
import type { ClientRateLimitInfo } from 'express-rate-limit';
import type { CachedToken, IdentityPort } from '../ports.js';
import type { Grant, TokenAccess } from '../tokens/token-access.js';
import { TOKEN_ROUTE } from './token-route.js';
import { callerKey, COUNTED, rateLimitHeaderValues } from './caller-rate-limit.js';
import type { HttpRecorder } from './http-metrics.js';
import { requestIdOf, requestLineWriter } from './request-context.js';
import type { LocalHitStore } from './shared-rate-limit-store.js';

export interface TokenFastPathOptions {
  identity: Pick<IdentityPort, 'cached'>;
  /** The same token access as the full path's routes (tokens/token-access.ts), asked not to wait. */
  access: Pick<TokenAccess, 'grant' | 'held'>;
  /** The per-caller limit's store and limit a minute (the same the full path's express-rate-limit uses). */
  limiter: { store: LocalHitStore; perMinute: number };
  /** The security headers, as name/value pairs, that helmet sets on every answer (securityHeadersOf). */
  securityHeaders: readonly string[];
  record: HttpRecorder;
  /** Counts the answers given here. */
  answered: { inc(): void };
  logger: Logger;
  now: () => number;
  isShuttingDown: () => boolean;
}

/**
 * The node:http request listener's first look at a request: answers it, or calls `next` to hand it,
 * as it came, to the Express app.
 */
export type HitPath = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/** The path before the profile: `TOKEN_ROUTE` without its parameter. */
const PREFIX = TOKEN_ROUTE.slice(0, TOKEN_ROUTE.indexOf(':'));

/**
 * The hit path: `GET /v1/tokens/{profile}` answered from memory in the HTTP server's request
 * listener, before the request reaches Express at all. Express's application and router (45 % of
 * the broker's CPU on this route in the benchmark's profile, even with the hit path mounted as the
 * first Express route), helmet's dozen middlewares and express-rate-limit are skipped in the common
 * case; the answer is written here, the same bytes the full path writes: helmet's headers (recorded
 * from helmet at start-up), the request id, the rate-limit headers, Cache-Control and Pragma, the
 * body, then the metrics, the audit line and the `info` request line.
 *
 * It answers when the path is exactly `/v1/tokens/<name>` (a query is ignored, as Express ignores
 * it), the caller's IdP token is in the verified cache, token access grants the profile (the same
 * checks as every token route, without waiting), the per-caller limit admits the request (counted by
 * the same store as the full path's: locally while the caller's count is fresh, else after the
 * store's Redis sync, exactly as the full path would), and L1 holds a usable token. Anything else (a
 * first request with a new IdP token, a denial, an encoded or oddly cased path, a caller over the
 * limit, a cold cache, shutdown) goes on to Express untouched but for one case: a request already
 * counted here carries its count in `res.locals` (Express keeps a `res.locals` it finds), so that
 * the full path's limiter does not count it again. Every error answer comes from the one error handler.
 */
export function tokenFastPath(options: TokenFastPathOptions): HitPath {
  const { identity, access, limiter, securityHeaders, record, answered, logger, now } = options;
  const logRequest = requestLineWriter(logger);
  const headersOf = answerHeaders(securityHeaders);
  const bodyOf = tokenBodyCache();
  const recordOk = record.of(TOKEN_ROUTE, 'GET', 200);

  /** Answers from L1, or hands the (counted) request to the full path. */
  const finish = (req: IncomingMessage, res: ServerResponse, next: () => void, path: string, grant: Grant, hit: ClientRateLimitInfo, started: bigint, startedMs: number) => {
    const limits = rateLimitHeaderValues(limiter.perMinute, hit);
    const token = options.isShuttingDown() ? undefined : access.held(grant);
    if (!token) {
      // Express sets res.locals only when absent: this object, null-prototyped as Express's own, reaches the limiter.
      const locals = Object.create(null) as Record<string, unknown>;
      locals[COUNTED] = limits;
      (res as ServerResponse & { locals?: unknown }).locals = locals;
      return next();
    }
    const requestId = requestIdOf(req);
    const { body, length } = bodyOf(token, now());
    res.writeHead(200, headersOf(requestId, limits, length));
    res.end(body);
    recordOk(started);
    answered.inc();
    if (logger.isLevelEnabled('info')) logRequest({ method: 'GET', path }, 200, now() - startedMs, requestId);
  };

  return (req, res, next) => {
    const url = req.url;
    if (req.method !== 'GET' || url === undefined || !url.startsWith(PREFIX) || options.isShuttingDown()) return next();
    const query = url.indexOf('?', PREFIX.length);
    const path = query < 0 ? url : url.slice(0, query);
    const profile = path.slice(PREFIX.length);
    if (!NAME_PATTERN.test(profile)) return next();
    const started = process.hrtime.bigint();
    const startedMs = now();
    const header = req.headers.authorization;
    const caller = typeof header === 'string' && header.length > 7 ? identity.cached(bearerOrEmpty(header)) : undefined;
    const grant = caller ? access.grant(caller, profile) : undefined;
    if (!grant) return next();
    const key = callerKey(grant.identity);
    const hit = limiter.store.tryHit(key, limiter.perMinute);
    if (hit) return finish(req, res, next, path, grant, hit, started, startedMs);
    // The caller's count is stale (or new) here: count as the full path does, waiting for the sync.
    limiter.store.increment(key).then((info) => {
      // Over the limit: the full path refuses it (and counts it again, which changes nothing for a
      // caller already over its limit in this window).
      if (info.totalHits > limiter.perMinute) return next();
      finish(req, res, next, path, grant, info, started, startedMs);
    }, () => next());
  };
}

/**
 * The hit path's answer headers as name/value pairs, in the order the full path sets them (helmet,
 * the request context, the limiter, the route, res.json): a template copied per answer with its four
 * changing values filled in by index. The benchmark's bare node:http baseline writes the same.
 */
export function answerHeaders(securityHeaders: readonly string[]): (requestId: string, limits: { policy: string; state: string }, contentLength: string) => string[] {
  const template = [
    ...securityHeaders,
    'X-Request-Id', '',
    'RateLimit-Policy', '',
    'RateLimit', '',
    'Cache-Control', 'no-store',
    'Pragma', 'no-cache',
    'Content-Type', 'application/json; charset=utf-8',
    'Content-Length', '',
  ];
  const requestIdAt = securityHeaders.length + 1;
  const policyAt = requestIdAt + 2;
  const stateAt = policyAt + 2;
  const lengthAt = template.length - 1;
  return (requestId, limits, contentLength) => {
    const headers = template.slice();
    headers[requestIdAt] = requestId;
    headers[policyAt] = limits.policy;
    headers[stateAt] = limits.state;
    headers[lengthAt] = contentLength;
    return headers;
  };
}

/**
 * The token answer's JSON and its byte length, rebuilt only when the token or the whole seconds of
 * `expires_in` change (under load, thousands of answers a second share both): one entry per profile,
 * compared field by field with the token it was built from, so a replaced or changed token is
 * never answered with an old body. The text is tokenBody's, as the full path writes it.
 */
function tokenBodyCache(): (token: CachedToken, now: number) => { body: string; length: string } {
  const entries = new Map<string, { token: TokenBodyFields; expiresIn: number; body: string; length: string }>();
  return (token, now) => {
    const expiresIn = Math.max(0, Math.floor((token.expiresAt - now) / 1000));
    const entry = entries.get(token.profile);
    if (entry && entry.expiresIn === expiresIn && sameBodyFields(entry.token, token)) return entry;
    const body = JSON.stringify(tokenBody(token, now));
    const built = {
      token: { accessToken: token.accessToken, expiresAt: token.expiresAt, profile: token.profile, apiBaseUrl: token.apiBaseUrl, fingerprint: token.fingerprint },
      expiresIn, body, length: String(Buffer.byteLength(body)),
    };
    entries.set(token.profile, built);
    return built;
  };
}

function sameBodyFields(a: TokenBodyFields, b: TokenBodyFields): boolean {
  return a.accessToken === b.accessToken && a.expiresAt === b.expiresAt && a.profile === b.profile && a.apiBaseUrl === b.apiBaseUrl && a.fingerprint === b.fingerprint;
}

/**
 * The bearer token of an Authorization header value, or '' (which no cache holds). The usual form,
 * `Bearer <token>` with one space and nothing after the token, is sliced without bearerToken's two
 * regular expressions (~1 µs each on a 1 KB token): what follows the space has no space, and
 * `identity.cached` checks the token's characters (RFC 6750's b64token, no whitespace) before it
 * looks it up, so the outcome is bearerToken's. Anything else goes through bearerToken.
 */
function bearerOrEmpty(header: string): string {
  if (header.startsWith('Bearer ') && header.indexOf(' ', 7) < 0) return header.slice(7);
  try {
    return bearerToken(header);
  } catch {
    return '';
  }
}

/**
 * A middleware setting recorded header pairs (securityHeadersOf) on every response: helmet's
 * answer in one step. helmet runs a dozen middlewares per request for headers that never change
 * (12 % of the full path's CPU in the benchmark's profile); the headers and their order stay helmet's.
 */
export function constantHeaders(pairs: readonly string[]): RequestHandler {
  return (_req, res, next) => {
    for (let i = 0; i < pairs.length; i += 2) res.setHeader(pairs[i]!, pairs[i + 1]!);
    next();
  };
}

/**
 * The headers a header-setting middleware (helmet) sets, as name/value pairs, found by running it
 * once against a recording response. Valid for middlewares whose headers do not depend on the
 * request (helmet's defaults, as the broker uses them); a test compares both paths' answers.
 */
export function securityHeadersOf(middleware: RequestHandler): string[] {
  const headers = new Map<string, [string, string]>();
  const recorder = {
    setHeader(name: string, value: unknown) { headers.set(name.toLowerCase(), [name, String(value)]); return recorder; },
    removeHeader(name: string) { headers.delete(name.toLowerCase()); },
    getHeader(name: string) { return headers.get(name.toLowerCase())?.[1]; },
  };
  let passed = false;
  void middleware({ headers: {}, method: 'GET', url: '/' } as Request, recorder as unknown as Response, (err?: unknown) => {
    if (err) throw err instanceof Error ? err : new Error(String(err));
    passed = true;
  });
  if (!passed) throw new Error('the security header middleware did not finish synchronously');
  return [...headers.values()].flat();
}
