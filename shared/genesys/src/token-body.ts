/** What the broker's token answer is built from: its cached token and the client's `BrokerToken` both have these. */
export interface TokenBodyFields {
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
  profile: string;
  apiBaseUrl: string;
  fingerprint: string;
}

/**
 * The JSON an app receives for a Genesys token from the broker, and the one place it is built:
 * the broker's routes and hit path and `gtb token --json` call it; @gtb/client's
 * `parseTokenBody` reads it. It lives here, beside the Genesys API client, because every package
 * that writes it already depends on this one.
 */
export function tokenBody(token: TokenBodyFields, now: number) {
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
