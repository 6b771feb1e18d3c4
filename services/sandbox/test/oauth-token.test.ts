import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientWithToken, sandbox, tokenRequest } from './helpers.js';

test('client credentials: Basic + form → bearer token with the client lifetime; mints are counted', async (t) => {
  const sb = await sandbox(t);
  const { clientId, clientSecret } = sb.admin.createClient({ clientId: 'c1', clientSecret: 's1', tokenLifetimeSeconds: 600 });
  assert.equal(clientId, 'c1');
  assert.equal(clientSecret, 's1');
  const res = await tokenRequest(sb, 'c1', 's1');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = (await res.json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
  assert.equal(body.token_type, 'bearer');
  assert.equal(body.expires_in, 600);
  assert.match(String(body.access_token), /^[A-Za-z0-9_-]{64}$/);
  const second = (await (await tokenRequest(sb, 'c1', 's1')).json()) as Record<string, unknown>;
  assert.notEqual(second.access_token, body.access_token);
  assert.equal(sb.admin.counters().tokensMinted.c1, 2);
});

test('default lifetime is 86400 s and the option changes it', async (t) => {
  const a = await sandbox(t);
  assert.equal((await clientWithToken(a)).expiresIn, 86_400);
  const b = await sandbox(t, { defaultTokenLifetimeSeconds: 3600 });
  assert.equal((await clientWithToken(b)).expiresIn, 3600);
});

test('per-client lifetime outside 300..172800 is refused', async (t) => {
  const sb = await sandbox(t);
  assert.throws(() => sb.admin.createClient({ tokenLifetimeSeconds: 299 }), { code: 'ERR_VALIDATION' });
  assert.throws(() => sb.admin.createClient({ tokenLifetimeSeconds: 172_801 }), { code: 'ERR_VALIDATION' });
  await assert.rejects(import('../src/index.js').then((m) => m.startSandbox({ defaultTokenLifetimeSeconds: 10 })), { code: 'ERR_CONFIG_INVALID' });
});

test('minTokenLifetimeSeconds lowers the floor for tests (default 300, as Genesys)', async (t) => {
  const sb = await sandbox(t, { minTokenLifetimeSeconds: 5 });
  assert.equal((await clientWithToken(sb, { tokenLifetimeSeconds: 20 })).expiresIn, 20);
  assert.throws(() => sb.admin.createClient({ tokenLifetimeSeconds: 4 }), { code: 'ERR_VALIDATION' });
  const { startSandbox } = await import('../src/index.js');
  await assert.rejects(startSandbox({ minTokenLifetimeSeconds: 0 }), { code: 'ERR_CONFIG_INVALID' });
  await assert.rejects(startSandbox({ minTokenLifetimeSeconds: 301 }), { code: 'ERR_CONFIG_INVALID' });
});

test('unknown client or wrong secret → 401 invalid_client (status configurable)', async (t) => {
  const sb = await sandbox(t);
  sb.admin.createClient({ clientId: 'c1', clientSecret: 's1' });
  for (const [id, secret] of [['c1', 'wrong'], ['nobody', 's1']] as const) {
    const res = await tokenRequest(sb, id, secret);
    assert.equal(res.status, 401);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.error, 'invalid_client');
    assert.equal(typeof body.description, 'string');
    assert.equal(body.error_description, body.description);
  }
  const sb400 = await sandbox(t, { invalidClientStatus: 400 });
  assert.equal((await tokenRequest(sb400, 'x', 'y')).status, 400);
  assert.equal(sb.admin.counters().tokenRequestsInvalidClient, 2);
});

test('no Basic auth (body credentials only) → invalid_client', async (t) => {
  const sb = await sandbox(t);
  const creds = sb.admin.createClient();
  const res = await fetch(`${sb.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&client_id=${creds.clientId}&client_secret=${creds.clientSecret}`,
  });
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
});

test('wrong grant type → 400 unsupported_grant_type; missing body or wrong content type → 400 invalid_request', async (t) => {
  const sb = await sandbox(t);
  const { clientId, clientSecret } = sb.admin.createClient();
  let res = await tokenRequest(sb, clientId, clientSecret, 'grant_type=password');
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: string }).error, 'unsupported_grant_type');
  res = await tokenRequest(sb, clientId, clientSecret, '');
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
  res = await fetch(`${sb.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials' }),
  });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
  assert.equal(sb.admin.counters().tokensMinted[clientId], undefined);
});

test('per-client token rate limit → 400 invalid_request "rate limit exceeded; …", reset by the clock', async (t) => {
  let now = Date.UTC(2026, 0, 1);
  const sb = await sandbox(t, { tokenRateLimitPerMinute: 3, now: () => now });
  const a = sb.admin.createClient({ clientId: 'a' });
  const b = sb.admin.createClient({ clientId: 'b' });
  for (let i = 0; i < 3; i++) assert.equal((await tokenRequest(sb, a.clientId, a.clientSecret)).status, 200);
  const res = await tokenRequest(sb, a.clientId, a.clientSecret);
  assert.equal(res.status, 400);
  const body = (await res.json()) as Record<string, string>;
  assert.equal(body.error, 'invalid_request');
  assert.match(body.error_description!, /^rate limit exceeded;/);
  assert.equal(body.description, body.error_description);
  // Other clients have their own window.
  assert.equal((await tokenRequest(sb, b.clientId, b.clientSecret)).status, 200);
  now += 60_000;
  assert.equal((await tokenRequest(sb, a.clientId, a.clientSecret)).status, 200);
  const c = sb.admin.counters();
  assert.equal(c.tokensMinted.a, 4);
  assert.equal(c.tokenRequestsRejected.a, 1);
  assert.equal(c.tokenRequestsRejected.b, undefined);
});
