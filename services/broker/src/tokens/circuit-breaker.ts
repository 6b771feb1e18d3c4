import { GtbError } from '@gtb/errors';

export interface BreakerOptions {
  /** Consecutive failed mints (each after its retries) that open the circuit (3). */
  failureThreshold: number;
  /** How long it stays open before one trial call is let through (30 s). */
  coolOffMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failureThreshold: 3, coolOffMs: 30_000 };

/**
 * A per-profile circuit breaker: closed → open after N consecutive failures → half-open after the
 * cool-off, letting exactly one trial through; its success closes, its failure reopens. Written
 * here (30 lines) rather than taken from opossum because it must read the injected clock and it
 * guards a call made once per token lifetime, not a request path.
 */
export function createCircuitBreaker(options: BreakerOptions & { now: () => number }) {
  let failures = 0;
  let openedAt: number | undefined;
  let trialInFlight = false;

  const state = (): 'closed' | 'open' | 'half-open' => {
    if (openedAt === undefined) return 'closed';
    return options.now() - openedAt >= options.coolOffMs ? 'half-open' : 'open';
  };

  return {
    state,
    /** Throws ERR_CIRCUIT_OPEN unless a call may go upstream now. */
    check(): void {
      const s = state();
      if (s === 'closed') return;
      if (s === 'half-open' && !trialInFlight) {
        trialInFlight = true;
        return;
      }
      const left = openedAt === undefined ? 0 : options.coolOffMs - (options.now() - openedAt);
      throw new GtbError('ERR_CIRCUIT_OPEN', `Genesys calls suspended after ${failures} consecutive failures`, {
        retryAfter: Math.max(1, Math.ceil(left / 1000)),
      });
    },
    success(): void {
      failures = 0;
      openedAt = undefined;
      trialInFlight = false;
    },
    failure(): void {
      failures += 1;
      trialInFlight = false;
      if (openedAt !== undefined || failures >= options.failureThreshold) openedAt = options.now();
    },
  };
}

export type CircuitBreaker = ReturnType<typeof createCircuitBreaker>;
