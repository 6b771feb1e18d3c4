import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.js';

export interface GtbErrorOptions {
  /** Overrides the catalogue's status (rarely needed). */
  status?: number;
  /** Extra fields for the problem document, e.g. `retryAfter`. Never secrets. */
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Seconds a client should wait before retrying; rendered as `Retry-After`. */
  retryAfter?: number;
}

/**
 * The one error base of the project. `code` is stable, `status` is the HTTP status it maps to,
 * `expose` says whether the message may be shown to the caller: client errors only, as in
 * oidc-provider. A 5xx message is written for the operator and may name upstream URLs, host:port
 * pairs or Redis timings; it stays in the log, and the caller reads `publicDetail`.
 */
export class GtbError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message?: string, options: GtbErrorOptions = {}) {
    const entry = ERROR_CATALOGUE[code];
    super(message ?? entry.title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GtbError';
    this.code = code;
    this.status = options.status ?? entry.status;
    this.expose = this.status < 500;
    this.details = options.details;
    this.retryAfter = options.retryAfter;
  }

  /** The catalogue title for this code. */
  get title(): string {
    return ERROR_CATALOGUE[this.code].title;
  }

  /**
   * What a caller may be told: the message of a client error; for a server error the catalogue
   * title and what to do about it, never the message. 503 and 504 are temporary, so they say when
   * to come back (the `retryAfter` also sent as `Retry-After`).
   */
  get publicDetail(): string {
    if (this.expose) return this.message;
    if (this.status === 503 || this.status === 504) {
      return this.retryAfter === undefined
        ? `${this.title}; retry later`
        : `${this.title}; retry after ${Math.max(1, Math.ceil(this.retryAfter))} s`;
    }
    return this.title;
  }
}

/** True for a GtbError, optionally of one of the given codes. */
export function isGtbError(err: unknown, ...codes: ErrorCode[]): err is GtbError {
  return err instanceof GtbError && (codes.length === 0 || codes.includes(err.code));
}
