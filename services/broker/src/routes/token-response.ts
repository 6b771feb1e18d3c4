import type { CachedToken } from '../ports.js';

/** The JSON an app gets for a token (DESIGN.md § HTTP API). */
export function tokenBody(token: CachedToken, now: number) {
  return {
    access_token: token.accessToken,
    token_type: 'Bearer',
    expires_in: Math.max(0, Math.floor((token.expiresAt - now) / 1000)),
    expires_at: new Date(token.expiresAt).toISOString(),
    profile: token.profile,
    api_base_url: token.apiBaseUrl,
    fingerprint: token.fingerprint,
  };
}
