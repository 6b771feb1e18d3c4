import * as oauth from 'oauth4webapi';

/** What the broker tells the page at /console/config.json. */
export interface ConsoleConfig {
  issuer: string;
  clientId: string | null;
  scope: string;
  resource: string | null;
}

/** The signed-in operator: the access token lives in this object only (memory), never in storage. */
export interface Session {
  accessToken: string;
  expiresAt: number;
  name: string;
  /** The ID token, kept (in memory) only as the hint of the IdP sign-out (RP-initiated logout). */
  idToken: string | undefined;
}

/** Only the PKCE verifier and state cross the redirect (sessionStorage); no token is ever stored. */
const PENDING = 'gtb-console-pending-sign-in';
const redirectUri = () => new URL('/console/callback', location.origin).href;
/** Where the IdP sends the browser back after ending its session; register it as a post-logout redirect URI. */
const postLogoutRedirectUri = () => new URL('/console/', location.origin).href;
/** The `state` the IdP hands back on that return, so the page can say the sign-out is complete. */
export const SIGNED_OUT_STATE = 'gtb-console-signed-out';

async function server(config: ConsoleConfig): Promise<{ as: oauth.AuthorizationServer; insecure: boolean }> {
  const issuer = new URL(config.issuer);
  // A development IdP on http://127.0.0.1 only; a real one is https.
  const insecure = issuer.protocol === 'http:';
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', [oauth.allowInsecureRequests]: insecure });
  return { as: await oauth.processDiscoveryResponse(issuer, response), insecure };
}

/** Sends the browser to the IdP's sign-in page (authorization code with PKCE, a public client). */
export async function signIn(config: ConsoleConfig, options: { forceLogin?: boolean } = {}): Promise<void> {
  if (!config.clientId) throw new Error('sign-in is not configured: set console.clientId in the broker configuration');
  const { as } = await server(config);
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  sessionStorage.setItem(PENDING, JSON.stringify({ codeVerifier, state }));
  const url = new URL(as.authorization_endpoint!);
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', config.scope);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  if (config.resource) url.searchParams.set('resource', config.resource);
  if (options.forceLogin) url.searchParams.set('prompt', 'login');
  location.assign(url.href);
}

/** On /console/callback: exchanges the code for tokens, forgets the verifier, and cleans the address bar. */
export async function completeSignIn(config: ConsoleConfig): Promise<Session> {
  const pending = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (!pending || !config.clientId) throw new Error('no sign-in was started from this tab; sign in again');
  const { codeVerifier, state } = JSON.parse(pending) as { codeVerifier: string; state: string };
  const { as, insecure } = await server(config);
  const client: oauth.Client = { client_id: config.clientId };
  const params = oauth.validateAuthResponse(as, client, new URL(location.href), state);
  history.replaceState(null, '', '/console/');
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri(), codeVerifier, {
    [oauth.allowInsecureRequests]: insecure,
    ...(config.resource ? { additionalParameters: { resource: config.resource } } : {}),
  });
  const result = await oauth.processAuthorizationCodeResponse(as, client, response);
  const claims = oauth.getValidatedIdTokenClaims(result);
  const name = typeof claims?.['name'] === 'string' ? claims['name'] : String(claims?.sub ?? 'operator');
  return { accessToken: result.access_token, expiresAt: Date.now() + (result.expires_in ?? 300) * 1000, name, idToken: result.id_token };
}

/**
 * Ends the operator's session at the IdP too (OpenID Connect RP-initiated logout), when the IdP
 * offers an `end_session_endpoint`: without it the IdP would sign the same person in again at
 * once, and nobody else could sign in from this browser. The browser goes to the IdP, which asks,
 * ends its session and sends it back to /console/. Answers false when the IdP offers no such
 * endpoint: the caller then forces the sign-in page on the next sign-in (`prompt=login`) instead.
 */
export async function endIdpSession(config: ConsoleConfig, session: Session): Promise<boolean> {
  if (!config.clientId) return false;
  const { as } = await server(config);
  if (!as.end_session_endpoint) return false;
  const url = new URL(as.end_session_endpoint);
  url.searchParams.set('client_id', config.clientId);
  if (session.idToken) url.searchParams.set('id_token_hint', session.idToken);
  url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri());
  url.searchParams.set('state', SIGNED_OUT_STATE);
  location.assign(url.href);
  return true;
}
