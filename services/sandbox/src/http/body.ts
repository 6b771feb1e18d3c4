import type { Request } from 'express';
import { GenesysError } from './genesys-error.js';

/** Max request body, as the brief and common gateways set it; larger bodies get 413. */
export const BODY_LIMIT = '1mb';

/** The raw body buffered by `express.raw`, or an empty buffer. */
export function rawBody(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

/** True when the request's media type (without parameters) is `type`. */
export function hasMediaType(req: Request, type: string): boolean {
  const value = req.headers['content-type'];
  return typeof value === 'string' && value.split(';')[0]!.trim().toLowerCase() === type;
}

/** Parses a JSON body; 415 for another media type, 400 for malformed JSON. `undefined` when empty. */
export function readJson(req: Request): unknown {
  const raw = rawBody(req);
  if (raw.length === 0) return undefined;
  if (!hasMediaType(req, 'application/json')) {
    throw new GenesysError(415, 'unsupported.media.type', 'The request body must be application/json.');
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new GenesysError(400, 'bad.request', 'The request could not be understood by the server due to malformed syntax.');
  }
}
