import type { Response } from 'express';

/**
 * An error in the emulated Genesys API's own vocabulary. Apart from GtbError on purpose: these
 * codes (`bad.credentials`, `too.many.requests`, `invalid_client`) are Genesys's wire contract
 * that the sandbox imitates, not codes of this project's catalogue.
 */
export class GenesysError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GenesysError';
  }
}

/** An RFC 6749-style error of the login host: `{error, description, error_description}`. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

/** Writes a platform API ErrorBody; the correlation id doubles as `contextId`. */
export function sendErrorBody(res: Response, err: GenesysError): void {
  if (res.headersSent) return;
  const contextId = String(res.locals.correlationId ?? '');
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  res.status(err.status).json({ message: err.message, code: err.code, status: err.status, contextId, details: [], errors: [] });
}

/** Writes a login-host error body. */
export function sendOAuthError(res: Response, err: OAuthError): void {
  if (res.headersSent) return;
  res.setHeader('Cache-Control', 'no-store');
  res.status(err.status).json({ error: err.error, description: err.description, error_description: err.description });
}

/** The 5xx ErrorBody codes Genesys uses for each status. */
export function serverErrorFor(status: 500 | 502 | 503): GenesysError {
  const table = {
    500: ['internal.server.error', 'The server encountered an unexpected condition.'],
    502: ['bad.gateway', 'The server received an invalid response from an upstream server.'],
    503: ['service.unavailable', 'The service is currently unavailable.'],
  } as const;
  const [code, message] = table[status];
  return new GenesysError(status, code, message);
}
