import { setTimeout as sleep } from 'node:timers/promises';
import type { NextFunction, Request, Response } from 'express';
import type { SandboxState } from '../state.js';
import { OAuthError, serverErrorFor } from './genesys-error.js';

/** Applies the HTTP faults, `latency` then `error5xx`, to every route but the admin API. */
export function faultMiddleware(state: SandboxState) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const path = req.path;
    const onRoute = (route: string | undefined) => route === undefined || path.startsWith(route);
    const latency = state.faults.peek('latency', (f) => onRoute(f.route));
    // Unref'd so that a pending delay never holds the process open after close().
    if (latency && latency.ms > 0) await sleep(latency.ms, undefined, { ref: false });
    const failure = state.faults.take('error5xx', (f) => onRoute(f.route));
    if (failure) {
      const status = failure.status ?? 503;
      if (path.startsWith('/oauth/')) throw new OAuthError(status, 'server_error', 'temporarily unavailable');
      throw serverErrorFor(status);
    }
    next();
  };
}
