import type { CachedToken } from './types.js';

/** The in-process cache (L1): one token per profile, never downgraded to an older fence. */
export function createL1Cache() {
  const tokens = new Map<string, CachedToken>();
  return {
    get(profile: string): CachedToken | undefined {
      return tokens.get(profile);
    },
    /** Stores `token` unless a token with a newer fence is already held. */
    set(token: CachedToken): void {
      const held = tokens.get(token.profile);
      if (!held || held.fence <= token.fence) tokens.set(token.profile, token);
    },
    /** Drops the entry when it is older than `fence` (or always, without a fence). */
    invalidate(profile: string, fence?: number): void {
      const held = tokens.get(profile);
      if (held && (fence === undefined || held.fence < fence)) tokens.delete(profile);
    },
    delete(profile: string): void {
      tokens.delete(profile);
    },
    clear(): void {
      tokens.clear();
    },
  };
}

export type L1Cache = ReturnType<typeof createL1Cache>;
