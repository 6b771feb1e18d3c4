/** How long to wait before the next try: `baseMs` doubled per failure, never more than `maxMs`. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** The delay before retry `attempt` (0 for the first retry) without jitter: `baseMs · 2^attempt`, capped at `maxMs`. */
export function exponentialDelay(attempt: number, options: BackoffOptions): number {
  // The exponent is bounded so that a long outage cannot overflow to Infinity before the cap applies.
  return Math.min(options.maxMs, options.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
}

/**
 * The project's one retry backoff: the capped exponential delay, half of it fixed and half drawn
 * from `random` (uniform [0, 1)). The random half keeps replicas that failed together from retrying
 * together; the fixed half keeps a delay from collapsing to zero, so a dead dependency is never
 * hammered. Rounded to whole ms.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const capped = exponentialDelay(attempt, options);
  return Math.round(capped / 2 + (capped / 2) * random());
}
