import { randomUUID } from 'node:crypto';
import type { Request, Response, NextFunction, RequestHandler } from 'express';
import type { Logger } from '@gtb/logger';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives each request an id (the caller's `X-Request-Id` when it is well-formed, else a new UUID),
 * echoes it, and hangs a child logger on `res.locals.log` that logs the request's end once.
 */
export function requestContext(logger: Logger, now: () => number = Date.now): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const started = now();
    res.locals.requestId = requestId;
    res.locals.log = logger.child({ requestId });
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      const log = res.locals.log as Logger;
      if (req.path === '/healthz' || req.path === '/metrics') return;
      log.info({ method: req.method, path: req.path, status: res.statusCode, ms: now() - started }, 'request');
    });
    next();
  };
}
