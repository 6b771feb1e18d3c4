/** A Genesys token as the cache holds and hands it out. Times are ms since the epoch (injected clock). */
export interface CachedToken {
  profile: string;
  accessToken: string;
  tokenType: string;
  issuedAt: number;
  expiresAt: number;
  /** Past this point a background refresh replaces the token (refresh-ahead). */
  refreshAt: number;
  /** First 12 hex of the token's SHA-256: what logs and events carry instead of the token. */
  fingerprint: string;
  /** Fencing number the token was written with; a newer token has a greater one. */
  fence: number;
  apiBaseUrl: string;
}

/** What the admin view may show about a profile: never a token value. (A type, so it fits `Record<string, unknown>`.) */
export type ProfileState = {
  profile: string;
  /** Where the current token was found: this process, Redis, or nowhere. */
  source: 'l1' | 'l2' | 'none';
  fingerprint?: string;
  issuedAt?: number;
  expiresAt?: number;
  refreshAt?: number;
  fence?: number;
  /** Remaining upstream cooldown after throttling, 0 when none. */
  cooldownMs: number;
  circuit: 'closed' | 'open' | 'half-open';
  /** True while this process runs a background refresh for the profile. */
  refreshing: boolean;
  /** False when Redis could not be read; the other fields then come from this process only. */
  redisAvailable: boolean;
};

/** Hooks for metrics; every member is optional and must not throw. (Lifecycle events go to the typed publisher.) */
export interface TokenObserver {
  cacheHit?(layer: 'l1' | 'l2'): void;
  cacheMiss?(): void;
  mintFinished?(profile: string, ms: number, outcome: 'ok' | 'throttled' | 'error'): void;
  lockWait?(ms: number): void;
  /** A caller gave up waiting for another replica's mint. */
  lockTimeout?(profile: string): void;
  throttled?(profile: string): void;
}
