import { rateLimit, type Store } from 'express-rate-limit';
import type { Request, RequestHandler, Response } from 'express';
import { GtbError } from '@gtb/errors';
import type { Identity } from '../ports.js';

export interface CallerRateLimitOptions {
  perMinute: number;
  /** A shared store (shared-rate-limit-store.ts) so that the limit holds across replicas; memory when omitted. */
  store?: Store | undefined;
}

/**
 * Per-caller rate limit. The caller is the verified identity (issuer + subject) when the request has
 * been authenticated, else the client address. Built on express-rate-limit (a well-kept library)
 * rather than by hand; with `passOnStoreError`, a Redis outage does not turn into refused requests.
 */
export function callerRateLimit(options: CallerRateLimitOptions): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: options.perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    passOnStoreError: true,
    store: options.store,
    // Keys are hashed-free strings of issuer|subject: no secret is ever a key.
    keyGenerator: (req: Request, res: Response) => {
      const identity = res.locals.identity as Identity | undefined;
      return identity ? `id:${identity.issuer}|${identity.subject}` : `ip:${req.ip ?? 'unknown'}`;
    },
    handler: (_req, _res, next, opts) => {
      next(new GtbError('ERR_RATE_LIMITED', `more than ${opts.limit} requests a minute from this caller`, { retryAfter: 60 }));
    },
    validate: { ip: false, trustProxy: false, xForwardedForHeader: false, keyGeneratorIpFallback: false },
  });
}
