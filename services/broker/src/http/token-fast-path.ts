import type { Request, Response, NextFunction, RequestHandler } from 'express';
import type { Logger } from '@gtb/logger';
import { tokenBody } from '@gtb/genesys';
import { bearerToken } from '../identity/index.js';
import type { ClientRateLimitInfo } from 'express-rate-limit';
import type { IdentityPort } from '../ports.js';
import type { Grant, TokenAccess } from '../tokens/token-access.js';
import { TOKEN_ROUTE } from './token-route.js';
import { callerKey, COUNTED, rateLimitHeaderValues } from './caller-rate-limit.js';
import type { HttpRecorder } from './http-metrics.js';
import { logRequest, requestIdOf } from './request-context.js';
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
 * The hit path: `GET /v1/tokens/{profile}` answered from memory in one handler, mounted before the
 * general middleware stack. Express's router, helmet's dozen middlewares and express-rate-limit
 * cost a third of the broker's CPU on this route in the benchmark's profile (and it is the route
 * every app calls), so the common case skips them and writes the same answer itself: helmet's
 * headers (recorded from helmet at start-up), the request id, the rate-limit headers, the metrics,
 * the audit line and the `info` request line.
 *
 * It answers when the caller's IdP token is in the verified cache, token access grants the profile
 * (the same checks as every token route, without waiting), the per-caller limit admits the request (counted by the same store as
 * the full path's: locally while the caller's count is fresh, else after the store's Redis sync,
 * exactly as the full path would), and L1 holds a usable token. Anything else (a first request
 * with a new IdP token, a denial, a caller over the limit, a cold cache, shutdown) goes on to the full
 * path, untouched but for one case: a request already counted here is marked so that the full
 * path's limiter does not count it again. Every error answer comes from the one error handler.
 */
export function tokenFastPath(options: TokenFastPathOptions): RequestHandler {
  const { identity, access, limiter, securityHeaders, record, answered, logger, now } = options;

  /** Answers from L1, or hands the (counted) request to the full path. */
  const finish = (req: Request, res: Response, next: NextFunction, grant: Grant, hit: ClientRateLimitInfo, started: bigint, startedMs: number) => {
    const limits = rateLimitHeaderValues(limiter.perMinute, hit);
    const token = options.isShuttingDown() ? undefined : access.held(grant);
    if (!token) {
      markCounted(res, limits);
      return next();
    }
    const requestId = requestIdOf(req);
    const body = JSON.stringify(tokenBody(token, now()));
    res.writeHead(200, [
      ...securityHeaders,
      'X-Request-Id', requestId,
      'RateLimit-Policy', limits.policy,
      'RateLimit', limits.state,
      'Cache-Control', 'no-store',
      'Pragma', 'no-cache',
      'Content-Type', 'application/json; charset=utf-8',
      'Content-Length', String(Buffer.byteLength(body)),
    ]);
    res.end(body);
    record(TOKEN_ROUTE, 'GET', 200, started);
    answered.inc();
    if (logger.isLevelEnabled('info')) logRequest(logger, req, 200, now() - startedMs, requestId);
  };

  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' || options.isShuttingDown()) return next();
    const started = process.hrtime.bigint();
    const startedMs = now();
    const profile = req.params['profile'];
    const header = req.headers.authorization;
    const caller = typeof header === 'string' && header.length > 7 ? identity.cached(bearerOrEmpty(header)) : undefined;
    const grant = caller && typeof profile === 'string' ? access.grant(caller, profile) : undefined;
    if (!grant) return next();
    const key = callerKey(grant.identity);
    const hit = limiter.store.tryHit(key, limiter.perMinute);
    if (hit) return finish(req, res, next, grant, hit, started, startedMs);
    // The caller's count is stale (or new) here: count as the full path does, waiting for the sync.
    return limiter.store.increment(key).then((info) => {
      // Over the limit: the full path refuses it (and counts it again, which changes nothing for a
      // caller already over its limit in this window).
      if (info.totalHits > limiter.perMinute) return next();
      return finish(req, res, next, grant, info, started, startedMs);
    }, () => next());
  };
}

/** Marks a request the hit path has counted but not answered, so the full path's limiter skips it; sets the limiter's headers. */
function markCounted(res: Response, limits: { policy: string; state: string }): void {
  res.locals[COUNTED] = true;
  res.setHeader('RateLimit-Policy', limits.policy);
  res.setHeader('RateLimit', limits.state);
}

/** The bearer token of an Authorization header value, or '' (which no cache holds). */
function bearerOrEmpty(header: string): string {
  try {
    return bearerToken(header);
  } catch {
    return '';
  }
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
