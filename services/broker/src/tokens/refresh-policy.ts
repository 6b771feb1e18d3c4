import type { CachedToken } from './types.js';

export interface RefreshPointInput {
  issuedAt: number;
  expiresAt: number;
  /** Fraction of the lifetime (0.8). */
  at: number;
  /** ± fraction of the lifetime (0.05). */
  jitter: number;
  minTtlMs: number;
  random: () => number;
}

/**
 * When a token should be refreshed: `at` of its lifetime ± `jitter` (so replicas' profiles do not
 * all refresh at once), but never later than 90 % of the way to the point where it stops being
 * handed out (`expiresAt − minTtl`): past that point callers would block on a miss instead of
 * being served while the refresh runs.
 */
export function computeRefreshAt(input: RefreshPointInput): number {
  const lifetime = input.expiresAt - input.issuedAt;
  const fraction = input.at + (input.random() * 2 - 1) * input.jitter;
  const planned = input.issuedAt + lifetime * fraction;
  const usableUntil = input.expiresAt - input.minTtlMs;
  const latest = input.issuedAt + Math.max(0, usableUntil - input.issuedAt) * 0.9;
  return Math.floor(Math.min(planned, latest));
}

/** True when the token has at least `minTtlMs` left at `nowMs`: only such a token is handed out. */
export function isUsable(token: Pick<CachedToken, 'expiresAt'>, nowMs: number, minTtlMs: number): boolean {
  return token.expiresAt - nowMs >= minTtlMs;
}
