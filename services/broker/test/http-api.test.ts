import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSystem, type TestSystem } from '../../../test/support/system.js';

let sys: TestSystem;
before(async () => { sys = await startSystem(); });
after(async () => { await sys?.close(); });

async function problem(res: Response, status: number, code: string) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${await res.clone().text()}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = await res.json() as Record<string, unknown>;
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  return body;
}

test('GET /v1/tokens/{profile} hands out one cached Genesys token', async () => {
  const before = sys.sandbox.admin.counters();
  const res = await sys.get('/v1/tokens/sales');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.ok(res.headers.get('x-request-id'));
  assert.ok(res.headers.get('content-security-policy'), 'helmet headers are set');
  const body = await res.json() as Record<string, unknown>;
  assert.equal(body.profile, 'sales');
  assert.equal(body.token_type, 'Bearer');
  assert.equal(body.api_base_url, sys.sandbox.url);
  assert.match(String(body.fingerprint), /^[0-9a-f]{12}$/);
  assert.ok(Number(body.expires_in) > 3000);
  const again = await (await sys.get('/v1/tokens/sales')).json() as Record<string, unknown>;
  assert.equal(again.access_token, body.access_token);
  const after = sys.sandbox.admin.counters();
  const minted = (c: typeof after) => Object.values(c.tokensMinted ?? {}).reduce((a: number, b) => a + Number(b), 0);
  assert.equal(minted(after) - minted(before), 1);
  // The token really works at Genesys (the sandbox).
  const me = await fetch(`${sys.sandbox.url}/api/v2/tokens/me`, { headers: { authorization: `Bearer ${String(body.access_token)}` } });
  assert.equal(me.status, 200);
});

test('identity failures are 401 problem documents with stable codes', async () => {
  await problem(await sys.get('/v1/tokens/sales', null), 401, 'ERR_IDP_TOKEN_MISSING');
  await problem(await sys.get('/v1/tokens/sales', null, { headers: { authorization: 'Basic abc' } }), 401, 'ERR_IDP_TOKEN_MALFORMED');
  await problem(await sys.get('/v1/tokens/sales', null, { headers: { authorization: 'Bearer not-a-jwt' } }), 401, 'ERR_IDP_TOKEN_MALFORMED');
});

test('policy: denied, unknown and malformed profiles', async () => {
  const denied = await problem(await sys.get('/v1/tokens/sales', 'stranger'), 403, 'ERR_PROFILE_NOT_ALLOWED');
  assert.doesNotMatch(String(denied.detail), /rule/i, 'the response does not say which rule failed');
  // An app asking for a profile it may not use learns nothing about whether it exists.
  await problem(await sys.get('/v1/tokens/nope', 'app'), 403, 'ERR_PROFILE_NOT_ALLOWED');
  await problem(await sys.get('/v1/tokens/nope', 'admin'), 404, 'ERR_PROFILE_UNKNOWN');
  await problem(await sys.get('/v1/tokens/bad%7Bname%7D', 'admin'), 400, 'ERR_VALIDATION');
  await problem(await sys.get('/v1/nothing-here', 'admin'), 404, 'ERR_NOT_FOUND');
});

async function exchange(fields: Record<string, string>, contentType = 'application/x-www-form-urlencoded') {
  const body = contentType.includes('json') ? JSON.stringify(fields) : new URLSearchParams(fields).toString();
  return fetch(`${sys.broker.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': contentType }, body });
}

test('POST /oauth2/token: RFC 8693 exchange and RFC 6749 errors', async () => {
  const subject = await sys.tokenFor('app');
  const base = {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: subject,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    audience: 'sales',
  };
  const ok = await exchange(base);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('cache-control'), 'no-store');
  const body = await ok.json() as Record<string, unknown>;
  assert.equal(body.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
  assert.equal(body.token_type, 'Bearer');
  assert.ok(typeof body.access_token === 'string' && Number(body.expires_in) > 0);

  const cases: [Record<string, string>, string, number, string?][] = [
    [{ ...base, grant_type: 'client_credentials' }, 'unsupported_grant_type', 400],
    [{ ...base, subject_token: '' }, 'invalid_request', 400],
    [{ ...base, subject_token_type: 'urn:x' }, 'invalid_request', 400],
    [{ ...base, subject_token: 'garbage' }, 'invalid_request', 400],
    [{ ...base, audience: 'nope' }, 'invalid_target', 400],
    [{ ...base, requested_token_type: 'urn:ietf:params:oauth:token-type:id_token' }, 'invalid_request', 400],
  ];
  for (const [fields, error, status] of cases) {
    const res = await exchange(fields);
    assert.equal(res.status, status, `${JSON.stringify(fields).slice(0, 80)} → ${res.status}`);
    const err = await res.json() as Record<string, unknown>;
    assert.equal(err.error, error);
    assert.equal(typeof err.error_description, 'string');
  }
  const json = await exchange(base, 'application/json');
  assert.equal(json.status, 400);
  assert.equal((await json.json() as Record<string, unknown>).error, 'invalid_request');
  const noAudience = await exchange({ ...base, audience: '' });
  assert.equal((await noAudience.json() as Record<string, unknown>).error, 'invalid_request');
  const stranger = await exchange({ ...base, subject_token: await sys.tokenFor('stranger') });
  assert.equal((await stranger.json() as Record<string, unknown>).error, 'invalid_target');
});

test('bad bodies on /v1 are 4xx problems, never 500', async () => {
  const post = (body: string, type = 'application/json') => sys.get('/v1/leases', 'app', { method: 'POST', headers: { 'content-type': type }, body });
  await problem(await post('{not json'), 400, 'ERR_BAD_REQUEST');
  await problem(await post(JSON.stringify({ profile: 'sales', holder: 'x'.repeat(20_000) })), 413, 'ERR_BODY_TOO_LARGE');
  await problem(await post('profile=sales', 'text/plain'), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
  await problem(await post(JSON.stringify({ profile: 'sales' })), 400, 'ERR_VALIDATION');
  await problem(await post(JSON.stringify({ profile: 'sales', holder: 'h', extra: 1 })), 400, 'ERR_VALIDATION');
  await problem(await post(JSON.stringify([1, 2])), 400, 'ERR_VALIDATION');
  await problem(await sys.get('/v1/leases/not-a-uuid/renew', 'app', { method: 'POST' }), 400, 'ERR_VALIDATION');
});

test('leases: grant, renew, release; only the owner or an admin sees them', async () => {
  const grant = await sys.get('/v1/leases', 'app', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ profile: 'sales', holder: 'streamer-1', ttl_seconds: 30 }) });
  assert.equal(grant.status, 201);
  const lease = await grant.json() as Record<string, string>;
  assert.match(lease.lease_id!, /^[0-9a-f-]{36}$/);
  assert.ok(lease.access_token);
  assert.ok(Date.parse(lease.renew_after!) < Date.parse(lease.lease_expires_at!));

  const renewed = await sys.get(`/v1/leases/${lease.lease_id}/renew`, 'app', { method: 'POST' });
  assert.equal(renewed.status, 200);
  assert.equal((await renewed.json() as Record<string, string>).access_token, lease.access_token);
  await problem(await sys.get(`/v1/leases/${lease.lease_id}/renew`, 'streamer', { method: 'POST' }), 404, 'ERR_LEASE_NOT_FOUND');

  await problem(await sys.get('/v1/leases', 'app'), 403, 'ERR_ADMIN_REQUIRED');
  const list = await (await sys.get('/v1/leases', 'admin')).json() as { leases: Record<string, string>[] };
  assert.ok(list.leases.some((l) => l.lease_id === lease.lease_id));
  assert.ok(!JSON.stringify(list).includes(lease.access_token!), 'the admin view holds no token');

  assert.equal((await sys.get(`/v1/leases/${lease.lease_id}`, 'app', { method: 'DELETE' })).status, 204);
  await problem(await sys.get(`/v1/leases/${lease.lease_id}/renew`, 'app', { method: 'POST' }), 404, 'ERR_LEASE_NOT_FOUND');
});

test('admin: profiles view, rotate and revoke', async () => {
  await problem(await sys.get('/v1/profiles', 'app'), 403, 'ERR_ADMIN_REQUIRED');
  const first = await (await sys.get('/v1/tokens/sales')).json() as Record<string, string>;
  const view = await (await sys.get('/v1/profiles', 'admin')).json() as { profiles: Record<string, unknown>[] };
  assert.equal(view.profiles[0]!.name, 'sales');
  assert.ok(!JSON.stringify(view).includes(first.access_token!));

  const rotated = await sys.get('/v1/profiles/sales/rotate', 'admin', { method: 'POST' });
  assert.equal(rotated.status, 200);
  const r = await rotated.json() as Record<string, string>;
  assert.notEqual(r.fingerprint, first.fingerprint);
  const now = await (await sys.get('/v1/tokens/sales')).json() as Record<string, string>;
  assert.equal(now.fingerprint, r.fingerprint);

  assert.equal((await sys.get('/v1/profiles/sales/token', 'admin', { method: 'DELETE' })).status, 204);
  const dead = await fetch(`${sys.sandbox.url}/api/v2/tokens/me`, { headers: { authorization: `Bearer ${now.access_token}` } });
  assert.equal(dead.status, 401, 'the revoked token no longer works at Genesys');
  const fresh = await (await sys.get('/v1/tokens/sales')).json() as Record<string, string>;
  assert.notEqual(fresh.fingerprint, now.fingerprint);
});

test('ops: healthz, readyz, metrics', async () => {
  assert.equal((await sys.get('/healthz', null)).status, 200);
  const ready = await sys.get('/readyz', null);
  assert.equal(ready.status, 200);
  assert.deepEqual((await ready.json() as { checks: Record<string, boolean> }).checks, { redis: true, idpKeys: true, subscribed: true, 'idp:0': true, 'idp:1': true, accepting: true });
  const metrics = await (await sys.get('/metrics', null)).text();
  for (const name of ['gtb_token_cache_hits_total', 'gtb_upstream_mints_total', 'gtb_lock_wait_seconds', 'gtb_upstream_throttles_total', 'gtb_policy_denials_total']) {
    assert.ok(metrics.includes(name), name);
  }
});

test('Redis holds no plaintext token', async () => {
  const token = await (await sys.get('/v1/tokens/sales')).json() as Record<string, string>;
  const keys = await sys.redis.keys(`${sys.prefix}:*`);
  assert.ok(keys.length > 0);
  for (const key of keys) {
    const type = await sys.redis.type(key);
    const dump = type === 'string' ? await sys.redis.get(key)
      : type === 'hash' ? JSON.stringify(await sys.redis.hgetall(key))
      : type === 'zset' ? JSON.stringify(await sys.redis.zrange(key, 0, -1))
      : type === 'stream' ? JSON.stringify(await sys.redis.xrange(key, '-', '+'))
      : '';
    assert.ok(!String(dump).includes(token.access_token!), `plaintext token in ${key}`);
  }
});
