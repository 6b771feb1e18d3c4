export interface RetryOptions {
  /** Attempts in all, the first included (3). */
  tries: number;
  /** First delay (200 ms); doubles each time up to `maxMs` (2 s). */
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { tries: 3, baseMs: 200, maxMs: 2_000 };

/**
 * Runs `fn` up to `tries` times while `retryable(err)` says so, sleeping a capped exponential delay
 * with "equal jitter" (half fixed, half random) between attempts, so replicas that failed together
 * do not retry together. Our own few lines instead of p-retry: it needs the injected random and
 * sleep, and p-retry 7+ does not take a clock.
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
      const cap = Math.min(options.maxMs, options.baseMs * 2 ** (attempt - 1));
      await options.sleep(cap / 2 + (options.random() * cap) / 2);
    }
  }
}

/** A real sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
