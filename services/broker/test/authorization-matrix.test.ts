// Every route of the broker × every kind of caller: the one status (and stable code) each cell must
// get, and whether a Genesys token may be in the body. A route the app registers (or the OpenAPI
// document describes) that is missing from the matrix fails the first sub-test, so a new route
// cannot ship without deciding who may call it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp, type TestIdp } from '../../../test/fixtures/idp/index.js';
import { epoch, signToken } from '../../../test/fixtures/idp/forge.js';
import { CLIENTS, startSystem, type TestSystem } from '../../../test/support/system.js';
import { openApiDocument } from '../src/openapi.js';

const CALLERS = [
  'none', 'malformed', 'expired', 'wrongIssuer', 'noRule', 'otherProfile', 'adminOnly', 'admin', 'owner', 'nonOwner', 'foreignGroup',
] as const;
type Caller = (typeof CALLERS)[number];

/** IdP clients beyond the shared ones: an admin-only rule, a rule for another profile, a second caller of the owner's rule. */
const EXTRA_CLIENTS = [
  { client_id: 'auditor', client_secret: 'auditor-secret', extraClaims: { roles: ['gtb-auditor'] } },
  { client_id: 'billing-app', client_secret: 'billing-app-secret', extraClaims: { groups: ['billing-apps'] } },
  { client_id: 'peer-app', client_secret: 'peer-app-secret', extraClaims: { groups: ['sales-apps'] } },
];

/** Every rule is bound to the first IdP: the same group name from the second trusted IdP matches none. */
const rulesFor = (issuer: string) => [
  { name: 'admins', match: { issuer, rolesAny: ['gtb-admin'] }, profiles: ['*'], admin: true },
  { name: 'auditors', match: { issuer, rolesAny: ['gtb-auditor'] }, profiles: [], admin: true },
  { name: 'sales-apps', match: { issuer, groupsAny: ['sales-apps'] }, profiles: ['sales'] },
  { name: 'billing-apps', match: { issuer, groupsAny: ['billing-apps'] }, profiles: ['billing'] },
];

interface Expect { status: number; code?: string }
type Row = Record<Caller, Expect>;

interface Ctx { sys: TestSystem; auth: Record<Caller, string | undefined>; bearer: Record<Caller, string | undefined>; leaseOf: () => Promise<string> }
interface Req { method: string; path: string; headers?: Record<string, string>; body?: string }

interface Case {
  /** `METHOD /path` in OpenAPI syntax: the key compared with the app's routes and the document. */
  route: string;
  variant?: string;
  /** May a 2xx answer carry a Genesys token (`access_token`)? */
  tokenAllowed: boolean;
  request(ctx: Ctx, caller: Caller): Promise<Req> | Req;
  expect: Row;
  /** Sent once before the cell (to put the caller's identity and token in memory, for the hit path). */
  warm?: boolean;
}

const ok = (status: number): Expect => ({ status });
const err = (status: number, code: string): Expect => ({ status, code });
/** Bearer routes: the four callers whose token the broker cannot accept. */
const UNAUTHENTICATED = {
  none: err(401, 'ERR_IDP_TOKEN_MISSING'),
  malformed: err(401, 'ERR_IDP_TOKEN_MALFORMED'),
  expired: err(401, 'ERR_IDP_TOKEN_EXPIRED'),
  // An unknown issuer answers like any invalid token: the broker does not say which issuers it trusts.
  wrongIssuer: err(401, 'ERR_IDP_TOKEN_INVALID'),
};
const NOT_ALLOWED = err(403, 'ERR_PROFILE_NOT_ALLOWED');
const ADMIN_REQUIRED = err(403, 'ERR_ADMIN_REQUIRED');
const NO_LEASE = err(404, 'ERR_LEASE_NOT_FOUND');
const UNKNOWN = err(404, 'ERR_PROFILE_UNKNOWN');
const all = (e: Expect): Row => Object.fromEntries(CALLERS.map((c) => [c, e])) as Row;
/** A profile route: the authenticated callers' answers, given as the ones granted and the rest denied. */
const profileRow = (granted: Partial<Row>, denied: Expect): Row => ({
  ...UNAUTHENTICATED,
  noRule: denied, otherProfile: denied, adminOnly: denied, admin: denied, owner: denied, nonOwner: denied, foreignGroup: denied,
  ...granted,
});
/** On the token endpoint every refusal is a 400 (RFC 6749 §5.2, RFC 8693 §2.2.2), the broker's code alongside. */
const oauth = (row: Row): Row => Object.fromEntries(Object.entries(row).map(([c, e]) => [c, e.status >= 400 ? { ...e, status: 400 } : e])) as Row;

const get = (path: string) => (ctx: Ctx, caller: Caller): Req => ({ method: 'GET', path, headers: authHeader(ctx, caller) });
const authHeader = (ctx: Ctx, caller: Caller): Record<string, string> => (ctx.auth[caller] === undefined ? {} : { authorization: ctx.auth[caller]! });
const exchange = (audience: string) => (ctx: Ctx, caller: Caller): Req => {
  const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', audience });
  if (ctx.bearer[caller] !== undefined) form.set('subject_token', ctx.bearer[caller]!);
  return { method: 'POST', path: '/oauth2/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() };
};
const grant = (profile: string) => (ctx: Ctx, caller: Caller): Req => ({
  method: 'POST', path: '/v1/leases', headers: { ...authHeader(ctx, caller), 'content-type': 'application/json' }, body: JSON.stringify({ profile, holder: `matrix-${caller}` }),
});
/** A fingerprint of no token the sandbox issued: nothing to replace, the broker answers the current token. */
const rejected = (profile: string) => (ctx: Ctx, caller: Caller): Req => ({
  method: 'POST', path: `/v1/tokens/${profile}/rejected`, headers: { ...authHeader(ctx, caller), 'content-type': 'application/json' }, body: JSON.stringify({ fingerprint: '000000000000' }),
});
const onLease = (method: string, suffix: string) => async (ctx: Ctx, caller: Caller): Promise<Req> => ({
  method, path: `/v1/leases/${await ctx.leaseOf()}${suffix}`, headers: authHeader(ctx, caller),
});
const admin = (method: string, path: string) => (ctx: Ctx, caller: Caller): Req => ({ method, path, headers: authHeader(ctx, caller) });

const tokenRow = profileRow({ admin: ok(200), owner: ok(200), nonOwner: ok(200) }, NOT_ALLOWED);
const adminRow = (success: number, admins: Expect = ok(success)) => profileRow({ admin: admins, adminOnly: admins }, ADMIN_REQUIRED);

const MATRIX: Case[] = [
  { route: 'GET /v1/tokens/{profile}', tokenAllowed: true, request: get('/v1/tokens/sales'), expect: tokenRow },
  { route: 'GET /v1/tokens/{profile}', variant: 'again, from memory (the hit path)', tokenAllowed: true, warm: true, request: get('/v1/tokens/sales'), expect: tokenRow },
  { route: 'GET /v1/tokens/{profile}', variant: 'the other profile', tokenAllowed: true, request: get('/v1/tokens/billing'), expect: profileRow({ admin: ok(200), otherProfile: ok(200) }, NOT_ALLOWED) },
  // Existence is told only to a caller the policy allows: 403 before 404.
  { route: 'GET /v1/tokens/{profile}', variant: 'unknown profile', tokenAllowed: true, request: get('/v1/tokens/nope'), expect: profileRow({ admin: UNKNOWN }, NOT_ALLOWED) },
  { route: 'GET /v1/tokens/{profile}', variant: 'bad profile name', tokenAllowed: true, request: get('/v1/tokens/bad%20name'), expect: profileRow({}, err(400, 'ERR_VALIDATION')) },
  // A holder reports a token Genesys refused; the answer is the current token, so the same checks as a token request.
  { route: 'POST /v1/tokens/{profile}/rejected', tokenAllowed: true, request: rejected('sales'), expect: tokenRow },
  { route: 'POST /v1/tokens/{profile}/rejected', variant: 'unknown profile', tokenAllowed: true, request: rejected('nope'), expect: profileRow({ admin: UNKNOWN }, NOT_ALLOWED) },
  { route: 'POST /oauth2/token', tokenAllowed: true, request: exchange('sales'), expect: oauth({ ...tokenRow, none: err(400, 'ERR_BAD_REQUEST') }) },
  { route: 'POST /oauth2/token', variant: 'unknown profile', tokenAllowed: true, request: exchange('nope'), expect: oauth({ ...profileRow({ admin: UNKNOWN }, NOT_ALLOWED), none: err(400, 'ERR_BAD_REQUEST') }) },
  { route: 'POST /v1/leases', tokenAllowed: true, request: grant('sales'), expect: profileRow({ admin: ok(201), owner: ok(201), nonOwner: ok(201) }, NOT_ALLOWED) },
  { route: 'POST /v1/leases', variant: 'unknown profile', tokenAllowed: true, request: grant('nope'), expect: profileRow({ admin: UNKNOWN }, NOT_ALLOWED) },
  // A renewal asks the policy again: the admin-only rule manages the lease but gets no token.
  { route: 'POST /v1/leases/{id}/renew', tokenAllowed: true, request: onLease('POST', '/renew'), expect: profileRow({ owner: ok(200), admin: ok(200), adminOnly: NOT_ALLOWED }, NO_LEASE) },
  { route: 'DELETE /v1/leases/{id}', tokenAllowed: false, request: onLease('DELETE', ''), expect: profileRow({ owner: ok(204), admin: ok(204), adminOnly: ok(204) }, NO_LEASE) },
  { route: 'GET /v1/leases', tokenAllowed: false, request: admin('GET', '/v1/leases'), expect: adminRow(200) },
  { route: 'GET /v1/profiles', tokenAllowed: false, request: admin('GET', '/v1/profiles'), expect: adminRow(200) },
  { route: 'POST /v1/profiles/{profile}/rotate', tokenAllowed: false, request: admin('POST', '/v1/profiles/sales/rotate'), expect: adminRow(200) },
  { route: 'POST /v1/profiles/{profile}/rotate', variant: 'unknown profile', tokenAllowed: false, request: admin('POST', '/v1/profiles/nope/rotate'), expect: adminRow(404, UNKNOWN) },
  { route: 'DELETE /v1/profiles/{profile}/token', tokenAllowed: false, request: admin('DELETE', '/v1/profiles/billing/token'), expect: adminRow(204) },
  { route: 'DELETE /v1/profiles/{profile}/token', variant: 'unknown profile', tokenAllowed: false, request: admin('DELETE', '/v1/profiles/nope/token'), expect: adminRow(404, UNKNOWN) },
  // The console's reads: admin only, never a token.
  { route: 'GET /v1/streams', tokenAllowed: false, request: admin('GET', '/v1/streams'), expect: adminRow(200) },
  { route: 'GET /v1/events', tokenAllowed: false, request: admin('GET', '/v1/events?count=50'), expect: adminRow(200) },
  { route: 'GET /v1/events/stream', tokenAllowed: false, request: admin('GET', '/v1/events/stream'), expect: adminRow(200) },
  { route: 'GET /healthz', tokenAllowed: false, request: get('/healthz'), expect: all(ok(200)) },
  { route: 'GET /readyz', tokenAllowed: false, request: get('/readyz'), expect: all(ok(200)) },
  { route: 'GET /metrics', tokenAllowed: false, request: get('/metrics'), expect: all(ok(200)) },
  { route: 'GET /openapi.json', tokenAllowed: false, request: get('/openapi.json'), expect: all(ok(200)) },
];

interface Layer { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } }

/** Every (method, path) the Express 5 app routes, the fast path and the routers mounted with `app.use` included. */
function routesOf(stack: Layer[]): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      return Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${layer.route!.path.replace(/:([A-Za-z]+)/g, '{$1}')}`);
    }
    return layer.handle?.stack ? routesOf(layer.handle.stack) : [];
  });
}

/** A token of a trusted IdP, properly signed, that expired two minutes ago (it would otherwise be the owner's). */
async function expiredToken(idp: TestIdp): Promise<string> {
  return signToken(
    { iss: idp.issuer, aud: idp.audience, sub: CLIENTS.app.client_id, client_id: CLIENTS.app.client_id, groups: ['sales-apps'], iat: epoch(-600), exp: epoch(-120) },
    { key: idp.signingKey, kid: idp.kid, typ: 'at+jwt' },
  );
}

interface Answer { caseName: string; caller: Caller; tokenAllowed: boolean; status: number; contentType: string; text: string }

test('authorization matrix: every route × every kind of caller', { timeout: 180_000 }, async (t) => {
  const sys = await startSystem({
    profiles: ['sales', 'billing'],
    extraClients: EXTRA_CLIENTS,
    brokerOverrides: ({ idp }) => ({
      policy: { rules: rulesFor(idp.issuer) },
      // The matrix sends a few dozen failed authentications from one address with one expired token.
      rateLimit: { perMinute: 100_000, authFailuresPerAddress: 100_000, authFailuresPerToken: 100_000 },
    }),
  });
  t.after(() => sys.close());
  const untrusted = await startIdp({ clients: Object.values(CLIENTS) });
  t.after(() => untrusted.close());

  const bearer: Record<Caller, string | undefined> = {
    none: undefined,
    malformed: 'not%a%token',
    expired: await expiredToken(sys.idp),
    wrongIssuer: await untrusted.clientCredentialsToken(CLIENTS.app.client_id),
    noRule: await sys.idp.clientCredentialsToken(CLIENTS.stranger.client_id),
    otherProfile: await sys.idp.clientCredentialsToken('billing-app'),
    adminOnly: await sys.idp.clientCredentialsToken('auditor'),
    admin: await sys.idp.clientCredentialsToken(CLIENTS.admin.client_id),
    owner: await sys.idp.clientCredentialsToken(CLIENTS.app.client_id),
    nonOwner: await sys.idp.clientCredentialsToken('peer-app'),
    // The owner's client with the owner's group claim, from the second trusted IdP.
    foreignGroup: await sys.otherIdp.clientCredentialsToken(CLIENTS.app.client_id),
  };
  const auth = Object.fromEntries(CALLERS.map((c) => [c, bearer[c] === undefined ? undefined : `Bearer ${bearer[c]}`])) as Record<Caller, string | undefined>;
  const leaseOf = async () => {
    const res = await fetch(`${sys.broker.url}/v1/leases`, {
      method: 'POST', headers: { authorization: auth.owner!, 'content-type': 'application/json' }, body: JSON.stringify({ profile: 'sales', holder: 'matrix-owner' }),
    });
    assert.equal(res.status, 201, 'the owner can take a lease');
    return (await res.json() as { lease_id: string }).lease_id;
  };
  const ctx: Ctx = { sys, auth, bearer, leaseOf };
  const send = async (r: Req) => {
    const init: RequestInit = { method: r.method, ...(r.headers ? { headers: r.headers } : {}), ...(r.body !== undefined ? { body: r.body } : {}) };
    return fetch(`${sys.broker.url}${r.path}`, init);
  };

  await t.test('the matrix has a row for every route the app registers and the OpenAPI document describes', () => {
    const app = sys.broker.broker.app as unknown as { router: { stack: Layer[] } };
    const registered = [...new Set(routesOf(app.router.stack))].sort();
    const documented = Object.entries(openApiDocument.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    const inMatrix = [...new Set(MATRIX.map((c) => c.route))].sort();
    assert.ok(registered.length >= 13, `the route walk found only ${registered.length} routes`);
    assert.deepEqual(inMatrix, registered, 'routes the app registers and the matrix disagree: add the new route to MATRIX');
    assert.deepEqual(inMatrix, documented, 'routes the OpenAPI document describes and the matrix disagree');
  });

  const answers: Answer[] = [];
  await t.test('each cell gets its one status and code', async () => {
    const wrong: string[] = [];
    for (const c of MATRIX) {
      const caseName = c.variant ? `${c.route} (${c.variant})` : c.route;
      for (const caller of CALLERS) {
        const req = await c.request(ctx, caller);
        if (c.warm) await (await send(req)).arrayBuffer();
        const res = await send(req);
        // A server-sent-events answer never ends by itself: its status and headers are the answer.
        const text = (res.headers.get('content-type') ?? '').startsWith('text/event-stream') ? (await res.body?.cancel(), '') : await res.text();
        const contentType = res.headers.get('content-type') ?? '';
        answers.push({ caseName, caller, tokenAllowed: c.tokenAllowed, status: res.status, contentType, text });
        const want = c.expect[caller];
        let code: unknown;
        try { code = (JSON.parse(text) as { code?: unknown }).code; } catch { code = undefined; }
        if (res.status !== want.status || (want.code !== undefined && code !== want.code)) {
          wrong.push(`${caseName} as ${caller}: want ${want.status} ${want.code ?? ''}, got ${res.status} ${String(code ?? '')}`);
        }
      }
    }
    assert.deepEqual(wrong, [], `${wrong.length} cells differ:\n${wrong.join('\n')}`);
    // The warmed row really went through the hit path (answered ahead of the middleware stack).
    const metrics = await (await fetch(`${sys.broker.url}/metrics`)).text();
    assert.ok(Number(/^gtb_http_fast_path_total (\d+)/m.exec(metrics)?.[1]) >= 3, 'the hit path answered the warmed requests');
  });

  await t.test('a Genesys token appears exactly where allowed, and no client secret anywhere', () => {
    const issued = sys.sandbox.admin.issuedSecrets();
    assert.ok(issued.accessTokens.length >= 3, 'the sandbox issued tokens during the run (rotations, revocations)');
    const wrong: string[] = [];
    for (const a of answers) {
      const where = `${a.caseName} as ${a.caller} (${a.status})`;
      const found = issued.accessTokens.filter((tok) => a.text.includes(tok));
      const allowed = a.tokenAllowed && a.status >= 200 && a.status < 300;
      if (allowed) {
        const body = JSON.parse(a.text) as { access_token?: unknown };
        if (typeof body.access_token !== 'string' || !issued.accessTokens.includes(body.access_token)) wrong.push(`${where}: no issued access_token`);
        else if (found.length !== 1 || found[0] !== body.access_token) wrong.push(`${where}: ${found.length} issued tokens in the body`);
      } else {
        if (found.length > 0) wrong.push(`${where}: a Genesys token in the body`);
        // The OpenAPI document describes the field; every other answer must not have it.
        if (/"access_token"/.test(a.text) && a.caseName !== 'GET /openapi.json') wrong.push(`${where}: an access_token field`);
      }
      if (issued.clientSecrets.some((s) => a.text.includes(s))) wrong.push(`${where}: a client secret in the body`);
      if (a.status >= 400) {
        const oauthRoute = a.caseName.startsWith('POST /oauth2/token');
        const type = oauthRoute ? 'application/json' : 'application/problem+json';
        if (!a.contentType.startsWith(type)) wrong.push(`${where}: content type ${a.contentType}`);
        if (oauthRoute && !/"error":"(invalid_request|invalid_target|unsupported_grant_type|slow_down|temporarily_unavailable|server_error)"/.test(a.text)) wrong.push(`${where}: no RFC 6749 error`);
      }
    }
    assert.deepEqual(wrong, [], wrong.join('\n'));
    const granted = answers.filter((a) => a.tokenAllowed && a.status < 300).length;
    t.diagnostic(`${answers.length} cells (${MATRIX.length} rows × ${CALLERS.length} callers), ${granted} carried a token, ${issued.accessTokens.length} Genesys tokens issued`);
  });
});
