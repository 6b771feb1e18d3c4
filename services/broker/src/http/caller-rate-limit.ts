import { rateLimit, type ClientRateLimitInfo, type Store } from 'express-rate-limit';
import type { Request, RequestHandler, Response } from 'express';
import { GtbError } from '@gtb/errors';
import type { Identity } from '../ports.js';

/** `res.locals` key of a request the hit path (token-fast-path.ts) has counted already: its `rateLimitHeaderValues`. */
export const COUNTED = 'rateLimitCounted';

/** The limit's window: requests are counted per caller and minute. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

export interface CallerRateLimitOptions {
  perMinute: number;
  /** A shared store (shared-rate-limit-store.ts) so that the limit holds across replicas; memory when omitted. */
  store?: Store | undefined;
}

/** The key a verified caller is counted under: issuer and subject (never a secret). */
export function callerKey(identity: Pick<Identity, 'issuer' | 'subject'>): string {
  return `id:${identity.issuer}|${identity.subject}`;
}

/**
 * The `RateLimit-Policy` and `RateLimit` header values (IETF draft 7) for a counted hit: the same
 * text express-rate-limit writes with `standardHeaders: 'draft-7'`, for the hit path that answers
 * without it (a test compares both paths' headers).
 */
export function rateLimitHeaderValues(limit: number, info: ClientRateLimitInfo): { policy: string; state: string } {
  const reset = info.resetTime ? Math.max(0, Math.ceil((info.resetTime.getTime() - Date.now()) / 1000)) : Math.ceil(RATE_LIMIT_WINDOW_MS / 1000);
  return {
    policy: `${limit};w=${Math.ceil(RATE_LIMIT_WINDOW_MS / 1000)}`,
    state: `limit=${limit}, remaining=${Math.max(limit - info.totalHits, 0)}, reset=${reset}`,
  };
}

/**
 * Per-caller rate limit. The caller is the verified identity (issuer + subject) when the request has
 * been authenticated, else the client address. Built on express-rate-limit (a well-kept library)
 * rather than by hand; with `passOnStoreError`, a Redis outage does not turn into refused requests.
 */
export function callerRateLimit(options: CallerRateLimitOptions): RequestHandler {
  const limiter = rateLimit({
    windowMs: RATE_LIMIT_WINDOW_MS,
    limit: options.perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    passOnStoreError: true,
    store: options.store,
    keyGenerator: (req: Request, res: Response) => {
      const identity = res.locals.identity as Identity | undefined;
      return identity ? callerKey(identity) : `ip:${req.ip ?? 'unknown'}`;
    },
    handler: (_req, _res, next, opts) => {
      next(new GtbError('ERR_RATE_LIMITED', `more than ${opts.limit} requests a minute from this caller`, { retryAfter: 60 }));
    },
    validate: { ip: false, trustProxy: false, xForwardedForHeader: false, keyGeneratorIpFallback: false },
  });
  // A request the hit path has counted already (and then handed on) is not counted twice; it gets
  // the headers of that count here, where the limiter would have set its own.
  return (req: Request, res: Response, next) => {
    const counted = res.locals[COUNTED] as { policy: string; state: string } | undefined;
    if (!counted) return void limiter(req, res, next);
    res.setHeader('RateLimit-Policy', counted.policy);
    res.setHeader('RateLimit', counted.state);
    next();
  };
}
