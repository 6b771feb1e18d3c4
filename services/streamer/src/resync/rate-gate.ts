import { sleep } from '../backoff.js';

/**
 * Paces snapshot calls: at most `perMinute` a minute (evenly spaced, a burst of a tenth of it),
 * `concurrency` at once, and everyone waits out a 429's `Retry-After`. Genesys limits each token,
 * and the token is shared with every app on the profile: a resync must not starve them.
 */
export interface RateGate {
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Genesys answered 429: no call before `retryAfterMs` from now. */
  pause(retryAfterMs: number): void;
}

export function createRateGate(options: { perMinute: number; concurrency: number; now: () => number }): RateGate {
  const { perMinute, concurrency, now } = options;
  const intervalMs = 60_000 / perMinute;
  const burst = Math.max(1, Math.floor(perMinute / 10));
  let tokens = burst;
  let refilledAt = now();
  let pausedUntil = 0;
  let inFlight = 0;
  const waiting: (() => void)[] = [];

  async function acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw new Error('aborted');
      const t = now();
      tokens = Math.min(burst, tokens + (t - refilledAt) / intervalMs);
      refilledAt = t;
      if (t < pausedUntil) {
        await sleep(pausedUntil - t, signal);
        continue;
      }
      if (inFlight >= concurrency) {
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      if (tokens >= 1) {
        tokens -= 1;
        inFlight += 1;
        return;
      }
      await sleep(Math.ceil((1 - tokens) * intervalMs), signal);
    }
  }

  return {
    async run(fn, signal) {
      await acquire(signal);
      try {
        return await fn();
      } finally {
        inFlight -= 1;
        waiting.shift()?.();
      }
    },
    pause(retryAfterMs) {
      pausedUntil = Math.max(pausedUntil, now() + retryAfterMs);
    },
  };
}
