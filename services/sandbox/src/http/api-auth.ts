import type { NextFunction, Request, Response } from 'express';
import { checkToken } from '../tokens.js';
import type { AccessToken, OAuthClient, SandboxState } from '../state.js';
import { GenesysError } from './genesys-error.js';

/** What the bearer middleware leaves in `res.locals.auth`. */
export interface ApiAuth {
  token: AccessToken;
  client: OAuthClient;
}

/** The authenticated caller of a platform API route. */
export function authOf(res: Response): ApiAuth {
  return res.locals.auth as ApiAuth;
}

/**
 * Bearer authentication and the per-token rate limit for `/api/v2`. Every answer, errors
 * included, carries `inin-ratelimit-*`; past the limit (or under the `api-throttle` fault) the
 * answer is 429 with an integer `Retry-After`.
 */
export function apiAuth(state: SandboxState) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const limit = state.options.apiRateLimitPerMinute;
    setRateHeaders(res, 0, limit, 60);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match) {
      throw new GenesysError(401, 'authentication.required', 'No authentication bearer token specified in authorization header.');
    }
    const check = checkToken(state, match[1]!);
    if (check.status === 'expired') throw new GenesysError(401, 'credentials.expired', 'The supplied credentials are expired.');
    if (check.status !== 'valid') throw new GenesysError(401, 'bad.credentials', 'Invalid login credentials.');
    const window = state.apiWindow.hit(check.token.token);
    setRateHeaders(res, window.count, window.limit, window.resetSeconds);
    if (!window.allowed) {
      state.counters.apiRequestsThrottled += 1;
      throw tooManyRequests(window.resetSeconds);
    }
    const fault = state.faults.take('api-throttle');
    if (fault) {
      state.counters.apiRequestsThrottled += 1;
      throw tooManyRequests(fault.retryAfterSeconds);
    }
    state.counters.apiRequests += 1;
    res.locals.auth = { token: check.token, client: check.client } satisfies ApiAuth;
    next();
  };
}

function setRateHeaders(res: Response, count: number, allowed: number, reset: number): void {
  res.setHeader('inin-ratelimit-count', String(count));
  res.setHeader('inin-ratelimit-allowed', String(allowed));
  res.setHeader('inin-ratelimit-reset', String(reset));
}

function tooManyRequests(retryAfter: number): GenesysError {
  return new GenesysError(429, 'too.many.requests', `Rate limit exceeded the maximum. Retry the request in [${retryAfter}] seconds`, {
    'Retry-After': String(retryAfter),
  });
}
