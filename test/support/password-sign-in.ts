/**
 * Signs a person in at the development IdP's sign-in page over plain HTTP, as the operator console
 * does in a browser (authorization code + PKCE, a public client), and answers the access token.
 * For tests that check a configuration's sign-in end to end without starting a browser; the
 * console's own flow is driven in chromium by test/system/console-browser.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface PasswordSignIn {
  issuer: string;
  clientId: string;
  redirectUri: string;
  username: string;
  password: string;
  scope?: string;
}

/** Follows the IdP's redirects (sign-in form, consent, back to the client) with a small cookie jar; at most 10 hops. */
export async function signInWithPassword(options: PasswordSignIn): Promise<{ accessToken: string; idToken: string | undefined }> {
  const discovery = await (await fetch(`${options.issuer}/.well-known/openid-configuration`)).json() as { authorization_endpoint: string; token_endpoint: string };
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const authorize = new URL(discovery.authorization_endpoint);
  const params = {
    client_id: options.clientId, redirect_uri: options.redirectUri, response_type: 'code', scope: options.scope ?? 'openid', state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  };
  for (const [k, v] of Object.entries(params)) authorize.searchParams.set(k, v);

  const jar = new Map<string, string>();
  const send = async (url: URL, init: RequestInit = {}): Promise<Response> => {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers as Record<string, string>, cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const at = pair!.indexOf('=');
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    return res;
  };

  let res = await send(authorize);
  for (let hop = 0; hop < 10; hop++) {
    const location = res.headers.get('location');
    if (res.status === 200) {
      // The sign-in form: post the person's name and password to its action.
      const action = /<form method="post" action="([^"]+)"/.exec(await res.text())?.[1];
      if (!action) throw new Error('the IdP answered a page without its sign-in form');
      res = await send(new URL(action, options.issuer), {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: options.username, password: options.password }).toString(),
      });
      continue;
    }
    if (res.status < 300 || res.status >= 400 || !location) throw new Error(`sign-in stopped at HTTP ${res.status}`);
    const next = new URL(location, options.issuer);
    if (next.href.startsWith(options.redirectUri)) {
      const code = next.searchParams.get('code');
      if (!code || next.searchParams.get('state') !== state) throw new Error(`the IdP came back without a code: ${next.searchParams.get('error') ?? 'no error named'}`);
      const token = await fetch(discovery.token_endpoint, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: options.clientId, redirect_uri: options.redirectUri }),
      });
      const body = await token.json() as { access_token?: string; id_token?: string; error?: string };
      if (!token.ok || !body.access_token) throw new Error(`the token endpoint refused the code: ${body.error ?? token.status}`);
      return { accessToken: body.access_token, idToken: body.id_token };
    }
    res = await send(next);
  }
  throw new Error('sign-in did not come back to the client within 10 hops');
}
