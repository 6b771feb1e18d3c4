import { randomUUID } from 'node:crypto';
import type { Request, Response, NextFunction, RequestHandler } from 'express';
import { fixedLine, type Logger } from '@gtb/logger';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const QUIET_PATHS = new Set(['/healthz', '/metrics', '/readyz']);

/** The request's id: the caller's `X-Request-Id` when it is well-formed, else a new UUID. */
export function requestIdOf(req: Pick<Request, 'headers'>): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * The end-of-request line (at `info`; probes are not logged). `requestId` is for a logger that does
 * not carry it already (the hit path logs through the app's logger instead of making a child).
 */
export function logRequest(log: Logger, req: Pick<Request, 'method' | 'path'>, status: number, ms: number, requestId?: string): void {
  if (QUIET_PATHS.has(req.path)) return;
  log.info({ ...(requestId === undefined ? {} : { requestId }), method: req.method, path: req.path, status, ms }, 'request');
}

/**
 * `logRequest` with the request id in the line's fields, for a logger that does not carry it, as a
 * precompiled line (fixedLine: the same bytes pino writes, without its generic per-call work). The
 * hit path writes one per answer at `info`.
 */
export function requestLineWriter(log: Logger): (req: Pick<Request, 'method' | 'path'>, status: number, ms: number, requestId: string) => void {
  const line = fixedLine(log, 'info', ['requestId', 'method', 'path', 'status', 'ms']);
  return (req, status, ms, requestId) => {
    if (QUIET_PATHS.has(req.path)) return;
    line({ requestId, method: req.method, path: req.path, status, ms }, 'request');
  };
}

/**
 * Gives each request an id, echoes it, and offers a request-scoped child logger on
 * `res.locals.log`. The child is made only when something logs (the hit path at `warn` never does:
 * building one per request cost ~10 % of the broker's CPU in the benchmark's profile), and the
 * end-of-request line only when `info` is on.
 */
export function requestContext(logger: Logger, now: () => number = Date.now): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const requestId = requestIdOf(req);
    res.locals.requestId = requestId;
    let child: Logger | undefined;
    Object.defineProperty(res.locals, 'log', {
      get: () => (child ??= logger.child({ requestId })),
      enumerable: false,
      configurable: true,
    });
    res.setHeader('X-Request-Id', requestId);
    if (logger.isLevelEnabled('info')) {
      const started = now();
      res.on('finish', () => logRequest(res.locals.log as Logger, req, res.statusCode, now() - started));
    }
    next();
  };
}
