/**
 * The development IdP: a real oidc-provider on 127.0.0.1 that issues client-credentials access
 * tokens as RS256 JWTs (through resource indicators), opaque tokens for the introspection path,
 * and, for browser clients such as the operator console, authorization code + PKCE through its
 * own sign-in page (login.ts) with RP-initiated logout. `npm start`, the compose image (main.ts)
 * and the tests (test/fixtures/idp, which adds request counts and an outage switch) all run this
 * one. Not for production: keys and sessions live in memory and change on restart.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { CryptoKey, JWK } from 'jose';
import { createMemoryAdapter, type AdapterStore } from './memory-adapter.js';
import { createSigningKey, type SigningKey } from './signing-key.js';
import type { OidcProviderModule } from './provider-types.js';
import { createLoginHandler, type IdpPublicClient, type IdpUser, type InteractionProvider } from './login.js';
import { signOutPage, signedOutPage } from './pages.js';

export type { IdpPublicClient, IdpUser };

/** A machine client: client credentials with a secret. */
export interface DevIdpClient {
  client_id: string;
  client_secret: string;
  /** Space-separated scopes the client may request. */
  scope?: string;
  /** Claims added to every access token of this client, e.g. `{ groups: ['sales'] }`. */
  extraClaims?: Record<string, unknown>;
}

export interface StartDevIdpOptions {
  port?: number;
  clients: DevIdpClient[];
  /** Access token lifetime in seconds (default 300). */
  accessTokenTtl?: number;
  /** The `aud` of JWT access tokens when no resource is asked for (default `api://gtb-broker`). */
  audience?: string;
  /** Browser clients (authorization code + PKCE, no secret), e.g. the operator console. */
  publicClients?: IdpPublicClient[];
  /** People who sign in at the IdP's page (login.ts) for those clients. */
  users?: IdpUser[];
  /**
   * Sees every request first; answering true means it has answered and the IdP does nothing more.
   * The test fixture counts requests and simulates outages with it.
   */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export interface TokenRequestOptions {
  scope?: string;
  /** A resource indicator; it becomes the token's `aud`. */
  resource?: string;
}

export interface DevIdp {
  issuer: string;
  url: string;
  audience: string;
  close(): Promise<void>;
  /** A JWT access token, obtained over HTTP from the running provider. */
  clientCredentialsToken(clientId: string, options?: TokenRequestOptions): Promise<string>;
  /** An opaque access token (same audience), only verifiable by introspection. */
  opaqueToken(clientId: string, options?: { scope?: string }): Promise<string>;
  /** The current private signing key, so tests can forge tokens with the IdP's own kid. */
  readonly signingKey: CryptoKey;
  /** The current public JWK (with `kid`, `alg`). */
  readonly publicJwk: JWK;
  readonly kid: string;
  /** Revokes a token (RFC 7009) as the client it was issued to; introspection then says inactive. */
  revoke(clientId: string, token: string): Promise<void>;
  /** Adds a new signing key; new tokens use it, the old key stays published. */
  rotateKeys(): Promise<void>;
}

/** The resource indicator that makes the fixture issue an opaque token. */
const OPAQUE_RESOURCE = 'urn:gtb:dev-idp:opaque';

// A variable specifier: the untyped module is typed by provider-types.ts instead.
const OIDC_PROVIDER = 'oidc-provider';
let providerModule: Promise<OidcProviderModule> | undefined;

/**
 * oidc-provider 9 warns at import time on Node 20 ("Unsupported runtime"); the project runs on 20
 * deliberately, so that one line is filtered while the module loads.
 */
function loadProvider(): Promise<OidcProviderModule> {
  providerModule ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
      warn(...args);
    };
    try {
      return (await import(OIDC_PROVIDER)) as OidcProviderModule;
    } finally {
      console.warn = warn;
    }
  })();
  return providerModule;
}

/** Starts the development IdP on 127.0.0.1 (port 0 unless given). Access tokens live an hour unless told. */
export async function startDevIdp(options: StartDevIdpOptions): Promise<DevIdp> {
  const { Provider } = await loadProvider();
  const audience = options.audience ?? 'api://gtb-broker';
  const ttl = options.accessTokenTtl ?? 3600;
  const clients = new Map(options.clients.map((c) => [c.client_id, c]));
  const allScopes = [...new Set(options.clients.flatMap((c) => (c.scope ?? '').split(' ').filter(Boolean)))];
  const store: AdapterStore = new Map();
  const keys: SigningKey[] = [await createSigningKey()];
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let provider: InteractionProvider | undefined;
  const users = new Map((options.users ?? []).map((u) => [u.username, u]));
  const login = createLoginHandler(() => provider!, users);

  const server = createServer((req, res) => {
    if (options.intercept?.(req, res)) return;
    if (!handler) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}');
      return;
    }
    const serve = handler;
    void login(req, res).then((done) => { if (!done) serve(req, res); }, () => { if (!res.headersSent) res.writeHead(500).end(); });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const cookieKey = randomBytes(32).toString('hex');

  // The keystore of an oidc-provider instance is fixed, so a rotation builds a new instance with
  // the new key first (it signs) and the old ones after (still published), over the same storage.
  const build = () => {
    const current = keys[0]!;
    const built = new Provider(issuer, {
      adapter: createMemoryAdapter(store),
      clients: options.clients.map((c) => ({
        client_id: c.client_id,
        client_secret: c.client_secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: c.scope,
        token_endpoint_auth_method: 'client_secret_basic',
      })).concat((options.publicClients ?? []).map((c) => ({
        client_id: c.client_id,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: c.redirect_uris,
        post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
        token_endpoint_auth_method: 'none',
      }) as never)),
      // The sign-in page (login.ts) for browser clients; CORS for them from their redirect origins.
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      findAccount: async (_ctx: unknown, id: string) => {
        const user = users.get(id);
        return user ? { accountId: id, claims: async () => ({ sub: id, name: user.name ?? id, ...user.claims }) } : undefined;
      },
      clientBasedCORS: (_ctx: unknown, origin: string, client: { redirectUris: string[] }) => client.redirectUris.some((uri) => new URL(uri).origin === origin),
      jwks: { keys: keys.map((k) => k.privateJwk) },
      cookies: { keys: [cookieKey] },
      scopes: ['openid', ...allScopes],
      features: {
        devInteractions: { enabled: false },
        // RP-initiated logout (end_session_endpoint): the console's sign-out ends the IdP session too,
        // so the next sign-in asks who is signing in. Its pages are the IdP's own (pages.ts).
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: async (ctx: { body: string; host: string }, form: string) => { ctx.body = signOutPage(form); },
          postLogoutSuccessSource: async (ctx: { body: string }) => { ctx.body = signedOutPage(); },
        },
        clientCredentials: { enabled: true },
        introspection: { enabled: true, allowedPolicy: async () => true },
        // RFC 7009: revoke a token and see when a verifier (introspection) notices.
        revocation: { enabled: true, allowedPolicy: async () => true },
        resourceIndicators: {
          enabled: true,
          defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string | string[]) => oneOf ?? audience,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx: unknown, resource: string) =>
            resource === OPAQUE_RESOURCE
              ? { scope: allScopes.join(' '), audience, accessTokenTTL: ttl, accessTokenFormat: 'opaque' }
              : {
                  scope: allScopes.join(' '),
                  audience: resource,
                  accessTokenTTL: ttl,
                  accessTokenFormat: 'jwt',
                  jwt: { sign: { alg: 'RS256', kid: current.kid } },
                },
        },
      },
      extraTokenClaims: async (_ctx: unknown, token: { clientId?: string; accountId?: string }) =>
        (token.accountId ? users.get(token.accountId)?.claims : undefined) ?? (token.clientId ? clients.get(token.clientId)?.extraClaims : undefined),
      ttl: { ClientCredentials: () => ttl, AccessToken: () => ttl, IdToken: () => ttl, AuthorizationCode: 60, Interaction: 600, Session: 8 * 3600, Grant: 8 * 3600 },
    });
    handler = built.callback();
    provider = built as unknown as InteractionProvider;
  };
  build();

  const requestToken = async (clientId: string, params: Record<string, string>): Promise<string> => {
    const client = clients.get(clientId);
    if (!client) throw new Error(`dev IdP: unknown client ${clientId}`);
    const basic = Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64');
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
    });
    const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
    if (!res.ok || typeof body.access_token !== 'string') {
      throw new Error(`dev IdP: token request failed ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`);
    }
    return body.access_token;
  };

  return {
    issuer,
    url: issuer,
    audience,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    clientCredentialsToken(clientId, opts = {}) {
      const params: Record<string, string> = {};
      if (opts.scope) params['scope'] = opts.scope;
      if (opts.resource) params['resource'] = opts.resource;
      return requestToken(clientId, params);
    },
    opaqueToken(clientId, opts = {}) {
      const params: Record<string, string> = { resource: OPAQUE_RESOURCE };
      if (opts.scope) params['scope'] = opts.scope;
      return requestToken(clientId, params);
    },
    async revoke(clientId, token) {
      const client = clients.get(clientId);
      if (!client) throw new Error(`dev IdP: unknown client ${clientId}`);
      const basic = Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64');
      const res = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
      });
      if (!res.ok) throw new Error(`dev IdP: revocation failed ${res.status}`);
    },
    get signingKey() {
      return keys[0]!.privateKey;
    },
    get publicJwk() {
      return keys[0]!.publicJwk;
    },
    get kid() {
      return keys[0]!.kid;
    },
    async rotateKeys() {
      keys.unshift(await createSigningKey());
      build();
    },
  };
}
