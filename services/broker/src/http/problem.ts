import type { Request, Response, NextFunction, ErrorRequestHandler } from 'express';
import { GtbError, isGtbError, type ErrorCode } from '@gtb/errors';
import type { Logger } from '@gtb/logger';

/** The RFC 6749 `error` value for each of our codes on the OAuth endpoint. */
const OAUTH_ERRORS: Partial<Record<ErrorCode, string>> = {
  ERR_BAD_REQUEST: 'invalid_request',
  ERR_VALIDATION: 'invalid_request',
  ERR_BODY_TOO_LARGE: 'invalid_request',
  ERR_UNSUPPORTED_MEDIA_TYPE: 'invalid_request',
  ERR_PROFILE_NOT_ALLOWED: 'invalid_target',
  ERR_PROFILE_UNKNOWN: 'invalid_target',
  ERR_RATE_LIMITED: 'slow_down',
};

/**
 * Turns what body-parser and friends throw into a GtbError, so that no client mistake ever
 * becomes a 500. body-parser errors carry `type` and `status`.
 */
export function normalizeError(err: unknown): GtbError {
  if (isGtbError(err)) return err;
  const e = err as { type?: string; status?: number; statusCode?: number; message?: string };
  switch (e?.type) {
    case 'entity.too.large':
      return new GtbError('ERR_BODY_TOO_LARGE', 'request body exceeds the size limit', { cause: err });
    case 'entity.parse.failed':
      return new GtbError('ERR_BAD_REQUEST', 'request body is not valid JSON', { cause: err });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new GtbError('ERR_UNSUPPORTED_MEDIA_TYPE', 'unsupported body encoding or charset', { cause: err });
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'parameters.too.many':
      return new GtbError('ERR_BAD_REQUEST', 'malformed request body', { cause: err });
  }
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new GtbError('ERR_BAD_REQUEST', 'malformed request', { cause: err });
  }
  if (err instanceof URIError) return new GtbError('ERR_BAD_REQUEST', 'malformed URL encoding', { cause: err });
  return new GtbError('ERR_INTERNAL', 'internal error', { cause: err });
}

/** Headers every error answer carries. */
function commonHeaders(res: Response, err: GtbError): void {
  res.setHeader('Cache-Control', 'no-store');
  if (err.retryAfter !== undefined) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(err.retryAfter))));
}

/**
 * RFC 9457 problem document for /v1 and the ops routes: what the caller can act on (code, title,
 * a detail that for a server error is generic, Retry-After, the request id to quote). A server
 * error's message and details stay in the log line the error handler writes with that request id.
 */
export function sendProblem(req: Request, res: Response, err: GtbError): void {
  commonHeaders(res, err);
  const body: Record<string, unknown> = {
    type: `https://gtb.dev/errors/${err.code}`,
    title: err.title,
    status: err.status,
    code: err.code,
    detail: err.publicDetail,
    instance: req.originalUrl.split('?')[0],
    requestId: res.locals.requestId,
  };
  if (err.retryAfter !== undefined) body.retryAfter = Math.ceil(err.retryAfter);
  if (err.expose && err.details) {
    // `reason` is internal (the identity verifier's why, e.g. `issuer` behind ERR_IDP_TOKEN_INVALID): logs and metrics only.
    const { reason: _internal, ...shown } = err.details;
    if (Object.keys(shown).length > 0) Object.assign(body, { details: shown });
  }
  res.status(err.status).type('application/problem+json').send(JSON.stringify(body));
}

/** RFC 6749 §5.2 error body for the token endpoint. */
export function sendOAuthError(res: Response, err: GtbError): void {
  commonHeaders(res, err);
  res.setHeader('Pragma', 'no-cache');
  let error = OAUTH_ERRORS[err.code];
  if (!error) {
    // RFC 8693 §2.2.2: an invalid subject token is `invalid_request`.
    if (err.status === 401) error = 'invalid_request';
    else if (err.status >= 500) error = err.status === 503 ? 'temporarily_unavailable' : 'server_error';
    else error = 'invalid_request';
  }
  const status = err.status === 401 || err.status === 403 || err.status === 404 ? 400 : err.status;
  res.status(status).json({ error, error_description: err.publicDetail, code: err.code });
}

/** Why a server error happened, for the log only: the message, details and the cause's message. */
function serverErrorFields(err: GtbError): Record<string, unknown> {
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return {
    reason: err.message,
    ...(err.details === undefined ? {} : { details: err.details }),
    ...(cause === undefined ? {} : { cause }),
    ...(err.retryAfter === undefined ? {} : { retryAfter: err.retryAfter }),
  };
}

/**
 * The one error handler: GtbErrors become problem+json (or OAuth errors on /oauth2/token); anything
 * else is a 500 that leaks no detail and is logged with its stack. Every server error is logged with
 * its full reason and the request id the caller was given, so that a support question quoting the
 * id finds the upstream URL or Redis timing the answer left out.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (raw: unknown, req: Request, res: Response, _next: NextFunction) => {
    const err = normalizeError(raw);
    // The per-request child carries the request id; a logger without it gets the id here.
    const log = (res.locals.log as Logger | undefined) ?? logger.child({ requestId: res.locals.requestId as unknown });
    const where = { code: err.code, status: err.status, path: req.path };
    if (err.status >= 500 && err.code === 'ERR_INTERNAL') log.error({ ...where, err: raw }, 'unhandled error');
    else if (err.status >= 500) log.warn({ ...where, ...serverErrorFields(err) }, 'request failed');
    else log.info(err.details?.['reason'] === undefined ? where : { ...where, reason: err.details['reason'] }, 'request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    if (req.path === '/oauth2/token') sendOAuthError(res, err);
    else sendProblem(req, res, err);
  };
}

/** The 404 for every unknown route. */
export function notFound(req: Request, _res: Response, next: NextFunction): void {
  next(new GtbError('ERR_NOT_FOUND', `no route for ${req.method} ${req.path}`));
}
