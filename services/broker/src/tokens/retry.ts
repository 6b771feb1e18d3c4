import { backoffDelay, type BackoffOptions } from '@gtb/errors';

export interface RetryOptions extends BackoffOptions {
  /** Attempts in all, the first included (3). First delay `baseMs` (200 ms), doubling up to `maxMs` (2 s). */
  tries: number;
}

export const DEFAULT_RETRY: RetryOptions = { tries: 3, baseMs: 200, maxMs: 2_000 };

/**
 * Runs `fn` up to `tries` times while `retryable(err)` says so, sleeping the project's jittered
 * backoff (`backoffDelay`) between attempts. Our own few lines instead of p-retry: it needs the
 * injected random and sleep, and p-retry 7+ does not take a clock.
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions & { retryable: (err: unknown) => boolean; random: () => number; sleep: (ms: number) => Promise<void> },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= options.tries || !options.retryable(err)) throw err;
      await options.sleep(backoffDelay(attempt - 1, options, options.random));
    }
  }
}

/** A real sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
