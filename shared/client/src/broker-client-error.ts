import { GtbError, isErrorCode, type ErrorCode } from '@gtb/errors';

/** What the broker's problem document (RFC 9457) said, as far as it is safe to keep. */
export interface Problem {
  code?: string;
  title?: string;
  detail?: string;
  requestId?: string;
}

export interface BrokerClientErrorOptions {
  /** The HTTP status the broker answered; absent when no answer arrived. */
  status?: number;
  /** Seconds to wait before retrying, from `Retry-After`. */
  retryAfter?: number;
  problem?: Problem;
  cause?: unknown;
}

/**
 * An error from the broker or from reaching it. `code` is the problem document's code (a code of
 * our catalogue) or, for failures before an answer, ERR_BROKER_UNREACHABLE / ERR_BROKER_RESPONSE_INVALID.
 * `status` is the broker's HTTP status; `retryAfter` comes from `Retry-After`.
 */
export class BrokerClientError extends GtbError {
  /** The problem document's code verbatim, even when this client does not know it. */
  readonly problemCode: string | undefined;
  readonly requestId: string | undefined;

  constructor(code: ErrorCode, message: string, options: BrokerClientErrorOptions = {}) {
    super(code, message, { status: options.status, retryAfter: options.retryAfter, cause: options.cause });
    this.name = 'BrokerClientError';
    this.problemCode = options.problem?.code;
    this.requestId = options.problem?.requestId;
  }
}

/** A code for a broker answer: the problem's own when we know it, else one chosen by status. */
export function codeForAnswer(status: number, problemCode: unknown): ErrorCode {
  if (isErrorCode(problemCode)) return problemCode;
  if (status === 401) return 'ERR_IDP_TOKEN_INVALID';
  if (status === 403) return 'ERR_PROFILE_NOT_ALLOWED';
  if (status === 404) return 'ERR_NOT_FOUND';
  if (status === 429) return 'ERR_RATE_LIMITED';
  if (status === 503 || status === 502 || status === 504) return 'ERR_UPSTREAM_UNAVAILABLE';
  if (status >= 400 && status < 500) return 'ERR_BAD_REQUEST';
  return 'ERR_BROKER_RESPONSE_INVALID';
}

/** True for a BrokerClientError, optionally of one of the given codes. */
export function isBrokerClientError(err: unknown, ...codes: ErrorCode[]): err is BrokerClientError {
  return err instanceof BrokerClientError && (codes.length === 0 || codes.includes(err.code));
}
