import { rateLimit, type ClientRateLimitInfo, type Store } from 'express-rate-limit';
import type { Request, RequestHandler, Response } from 'express';
import { GtbError } from '@gtb/errors';
import type { Identity } from '../ports.js';
import { isLocalHitStore } from './shared-rate-limit-store.js';

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
  const store = options.store;
  const local = isLocalHitStore(store) ? store : undefined;
  // A request the hit path has counted already (and then handed on) is not counted twice; it gets
  // the headers of that count here, where the limiter would have set its own. A verified caller whose
  // count the shared store can decide here and now (tryHit: synced within its interval and under the
  // limit) is counted without express-rate-limit's promise and store round: the same count in the
  // same store and the same headers (rateLimitHeaderValues, compared with express-rate-limit's in
  // rate-limit-headers.test.ts). Anything else (no identity, a stale count, a caller at its limit)
  // goes through express-rate-limit.
  return (req: Request, res: Response, next) => {
    let counted = res.locals[COUNTED] as { policy: string; state: string } | undefined;
    if (!counted && local) {
      const identity = res.locals.identity as Identity | undefined;
      const hit = identity ? local.tryHit(callerKey(identity), options.perMinute) : undefined;
      if (hit) counted = rateLimitHeaderValues(options.perMinute, hit);
    }
    if (!counted) return void limiter(req, res, next);
    res.setHeader('RateLimit-Policy', counted.policy);
    res.setHeader('RateLimit', counted.state);
    next();
  };
}
