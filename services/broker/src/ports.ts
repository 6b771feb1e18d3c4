/**
 * The shapes the HTTP layer needs from the rest of the broker. The app depends on these, not on the
 * implementations, so tests can build it with their own parts (CONVENTIONS.md: inject the seams).
 */

import type { Identity } from './identity/index.js';

export type { Identity };

export interface IdentityPort {
  verify(token: string): Promise<Identity>;
  /** Discovery done and keys loaded for every IdP. */
  ready(): Promise<boolean>;
}

export interface Decision {
  allowed: boolean;
  rule?: string | undefined;
}

export interface PolicyPort {
  decide(identity: Identity, profile: string): Decision;
  isAdmin(identity: Identity): Decision;
}

import type { CachedToken } from './tokens/types.js';

export type { CachedToken };

export interface TokenPort {
  getToken(profile: string): Promise<CachedToken>;
  rotate(profile: string): Promise<CachedToken>;
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
