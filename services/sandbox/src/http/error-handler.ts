import type { NextFunction, Request, Response } from 'express';
import { isGtbError } from '@gtb/errors';
import type { Logger } from '@gtb/logger';
import { GenesysError, OAuthError, sendErrorBody, sendOAuthError } from './genesys-error.js';

interface HttpishError {
  status?: unknown;
  statusCode?: unknown;
}

/**
 * Turns every error into the answer its part of the API would give: OAuth bodies on `/oauth`,
 * problem+json on the admin API, Genesys ErrorBody elsewhere. Only unexpected errors are 500,
 * logged with their stack, and they leak nothing.
 */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const area = req.path.startsWith('/oauth/') ? 'oauth' : req.path.startsWith('/__sandbox') ? 'admin' : 'api';
    const parserStatus = bodyParserStatus(err);
    if (area === 'admin' && isGtbError(err)) {
      res.status(err.status).type('application/problem+json').json({ type: 'about:blank', title: err.title, status: err.status, code: err.code, detail: err.message });
      return;
    }
    if (err instanceof OAuthError) return sendOAuthError(res, err);
    if (err instanceof GenesysError) {
      if (area === 'oauth') return sendOAuthError(res, new OAuthError(err.status, 'invalid_request', err.message));
      return sendErrorBody(res, err);
    }
    if (parserStatus !== undefined) {
      const tooLarge = parserStatus === 413;
      const message = tooLarge ? 'The request body is larger than 1 MB.' : 'The request could not be understood by the server.';
      if (area === 'oauth') return sendOAuthError(res, new OAuthError(parserStatus, 'invalid_request', message));
      if (area === 'admin') {
        res.status(parserStatus).type('application/problem+json').json({ type: 'about:blank', title: message, status: parserStatus, code: tooLarge ? 'ERR_BODY_TOO_LARGE' : 'ERR_BAD_REQUEST', detail: message });
        return;
      }
      return sendErrorBody(res, new GenesysError(parserStatus, tooLarge ? 'request.entity.too.large' : 'bad.request', message));
    }
    logger.error({ err, path: req.path }, 'unexpected error');
    if (area === 'oauth') return sendOAuthError(res, new OAuthError(500, 'server_error', 'internal error'));
    sendErrorBody(res, new GenesysError(500, 'internal.server.error', 'The server encountered an unexpected condition.'));
  };
}

/** The 4xx status that body-parser or the router attached to its error, if this is one. */
function bodyParserStatus(err: unknown): number | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as HttpishError;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  // body-parser and Express's param decoding mark client errors with an http-errors status.
  return status !== undefined && status >= 400 && status < 500 ? status : undefined;
}
