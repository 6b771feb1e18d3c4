/** Reconnect delay for the n-th consecutive failure (0-based): capped exponential with jitter in [½, 1]. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const capped = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  // Half fixed, half random: replicas that lost their sockets together do not reconnect together,
  // and no delay collapses to zero.
  return Math.round(capped / 2 + (capped / 2) * random());
}

/** A promise that resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
