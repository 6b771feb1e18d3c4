import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { api, channelWith, clientWithToken, sandbox } from './helpers.js';

test('unknown routes → 404 ErrorBody with a correlation id', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  for (const res of [await api(sb, token, 'GET', '/users/me'), await fetch(`${sb.url}/nothing/here`)]) {
    assert.equal(res.status, 404);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.code, 'not.found');
    assert.equal(body.status, 404);
    assert.equal(body.contextId, res.headers.get('inin-correlation-id'));
  }
});

test('malformed JSON → 400 bad.request; wrong content type → 415; > 1 MB → 413', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  const channel = await channelWith(sb, token, []);
  const url = `${sb.url}/api/v2/notifications/channels/${channel.id}/subscriptions`;
  const auth = { authorization: `Bearer ${token}` };
  let res = await fetch(url, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: '[{"id":' });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { code: string }).code, 'bad.request');
  res = await fetch(url, { method: 'PUT', headers: { ...auth, 'content-type': 'text/plain' }, body: '[]' });
  assert.equal(res.status, 415);
  assert.equal(((await res.json()) as { code: string }).code, 'unsupported.media.type');
  res = await fetch(url, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: `[${'"x",'.repeat(300_000)}"x"]` });
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as { code: string }).code, 'request.entity.too.large');
  res = await fetch(`${sb.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a'.repeat(1_100_000) });
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
  // The server is still fine.
  assert.equal((await api(sb, token, 'HEAD', '/tokens/me')).status, 200);
});

test('garbage Authorization headers are 401s, never 500s', async (t) => {
  const sb = await sandbox(t);
  for (const authorization of ['Bearer', 'Basic abc', 'Bearer a b', 'x'.repeat(8000)]) {
    const res = await fetch(`${sb.url}/api/v2/tokens/me`, { headers: { authorization } });
    assert.equal(res.status, 401, authorization.slice(0, 20));
  }
  for (const authorization of ['Basic', 'Basic !!!', `Basic ${Buffer.from('nocolon').toString('base64')}`, `Basic ${Buffer.from('%zz:%zz').toString('base64')}`]) {
    const res = await fetch(`${sb.url}/oauth/token`, { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    assert.equal(res.status, 401, authorization);
  }
});

test('a bad percent-encoded path or a wrong method does not crash the server', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  const res = await api(sb, token, 'GET', '/notifications/channels/%E0%A4%A/subscriptions');
  assert.ok(res.status === 400 || res.status === 404, String(res.status));
  const get = await fetch(`${sb.url}/oauth/token`);
  assert.equal(get.status, 405);
  assert.equal((await api(sb, token, 'HEAD', '/tokens/me')).status, 200);
});

test('an aborted upload does not crash the server', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  await new Promise<void>((resolve) => {
    const req = request(`${sb.url}/api/v2/notifications/channels`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '1000' } });
    req.on('error', () => resolve());
    req.write('[{"id":');
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 50);
  });
  assert.equal((await api(sb, token, 'HEAD', '/tokens/me')).status, 200);
});
