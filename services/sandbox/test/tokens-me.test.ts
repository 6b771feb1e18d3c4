import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, clientWithToken, sandbox, testClock } from './helpers.js';

test('GET /tokens/me → TokenInfo naming the OAuth client; HEAD → 200 empty', async (t) => {
  const sb = await sandbox(t);
  const { token, clientId } = await clientWithToken(sb, { name: 'my app' });
  const res = await api(sb, token, 'GET', '/tokens/me');
  assert.equal(res.status, 200);
  assert.ok(res.headers.get('inin-correlation-id'));
  const info = (await res.json()) as { organization: { id: string }; OAuthClient: { id: string; name: string }; authorizedScope: unknown[] };
  assert.equal(info.OAuthClient.id, clientId);
  assert.equal(info.OAuthClient.name, 'my app');
  assert.equal(typeof info.organization.id, 'string');
  assert.ok(Array.isArray(info.authorizedScope));
  const head = await api(sb, token, 'HEAD', '/tokens/me');
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
});

test('missing token → 401 authentication.required; unknown → bad.credentials; expired → credentials.expired', async (t) => {
  const clock = testClock();
  const sb = await sandbox(t, { now: clock.now });
  const { token } = await clientWithToken(sb, { tokenLifetimeSeconds: 300 });
  let res = await api(sb, undefined, 'GET', '/tokens/me');
  assert.equal(res.status, 401);
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(body.code, 'authentication.required');
  assert.equal(body.message, 'No authentication bearer token specified in authorization header.');
  assert.equal(body.status, 401);
  assert.deepEqual(body.details, []);
  assert.deepEqual(body.errors, []);
  assert.equal(body.contextId, res.headers.get('inin-correlation-id'));
  res = await api(sb, 'not-a-token', 'GET', '/tokens/me');
  assert.equal(((await res.json()) as { code: string }).code, 'bad.credentials');
  clock.advance(299_000);
  assert.equal((await api(sb, token, 'HEAD', '/tokens/me')).status, 200);
  clock.advance(1_000);
  res = await api(sb, token, 'GET', '/tokens/me');
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as { code: string }).code, 'credentials.expired');
});

test('DELETE /tokens/me → 200 without body and the token stops working', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  const res = await api(sb, token, 'DELETE', '/tokens/me');
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '');
  const after = await api(sb, token, 'GET', '/tokens/me');
  assert.equal(after.status, 401);
  assert.equal(((await after.json()) as { code: string }).code, 'bad.credentials');
  assert.equal(sb.admin.counters().tokensRevoked, 1);
});

test('admin revokeToken by client revokes all its tokens', async (t) => {
  const sb = await sandbox(t);
  const a = await clientWithToken(sb, { clientId: 'a' });
  const other = await clientWithToken(sb);
  assert.equal(sb.admin.revokeToken({ clientId: 'a' }), 1);
  assert.equal((await api(sb, a.token, 'HEAD', '/tokens/me')).status, 401);
  assert.equal((await api(sb, other.token, 'HEAD', '/tokens/me')).status, 200);
  assert.throws(() => sb.admin.revokeToken('nope'), { code: 'ERR_NOT_FOUND' });
});
