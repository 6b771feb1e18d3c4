/**
 * The shapes the HTTP layer needs from the rest of the broker. The app depends on these, not on the
 * implementations, so tests can build it with their own parts (their own clock, Redis or IdP).
 */

import type { Identity } from './identity/index.js';

export type { Identity };

export interface IdentityPort {
  verify(token: string): Promise<Identity>;
  /** The identity verified earlier for this token, while cached; never verifies, never throws. */
  cached(token: string): Identity | undefined;
  /** Discovery done and keys loaded for every IdP. */
  ready(): Promise<boolean>;
}

export interface Decision {
  allowed: boolean;
  rule?: string | undefined;
  /** For the audit line only, never for a response. */
  reason: string;
}

export interface PolicyPort {
  /** Is the identity an administrator? Writes the audit line. */
  isAdmin(identity: Identity): Decision;
  /** Decides a profile without an audit line (token access audits once it acts on the decision). */
  evaluate(identity: Identity, profile: string): Decision;
  /** Writes the audit line of a profile decision `evaluate` made. */
  audit(identity: Identity, profile: string, decision: Decision): void;
}

import type { CachedToken } from './tokens/types.js';

export type { CachedToken };

export interface TokenPort {
  getToken(profile: string): Promise<CachedToken>;
  /**
   * `getToken` when it can answer from this process's memory (L1, usable, not shutting down), else
   * undefined; never waits, never throws. Counts the hit and starts refresh-ahead as `getToken` does.
   */
  cached(profile: string): CachedToken | undefined;
  rotate(profile: string): Promise<CachedToken>;
  /** Replaces the cached token if Genesys confirms it rejects it (see TokenService.replaceRejected). */
  replaceRejected(profile: string, fingerprint: string): Promise<{ token: CachedToken; replaced: boolean }>;
  /**
   * Revokes at Genesys and purges the cache; with `token`, revokes only that (older) token and keeps
   * the cache, which by then holds its replacement.
   */
  revoke(profile: string, token?: CachedToken): Promise<void>;
  state(profile: string): Promise<Record<string, unknown>>;
}

/** One configured profile as the admin view shows it (no secrets). */
export interface ProfileInfo {
  name: string;
  region?: string | undefined;
  loginBaseUrl: string;
  apiBaseUrl: string;
  clientIdFingerprint: string;
}
