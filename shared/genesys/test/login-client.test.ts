import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GtbError } from '@gtb/errors';
import { createGenesysLogin } from '../src/index.js';
import { fakeServer, sandboxFor } from './helpers.js';

const SECRET_MARK = 'never-in-a-message';

function assertNoSecret(err: unknown, ...secrets: string[]): void {
  const text = `${String(err)} ${JSON.stringify((err as GtbError).details ?? {})}`;
  for (const s of secrets) assert.ok(!text.includes(s), 'error text holds a secret');
}

test('client credentials against the sandbox: a bearer token with its lifetime', async (t) => {
  const sb = await sandboxFor(t);
  const { clientId, clientSecret } = sb.admin.createClient({ tokenLifetimeSeconds: 3600 });
  const login = createGenesysLogin({ loginBaseUrl: sb.url, now: () => 42 });
  const token = await login.clientCredentials(clientId, clientSecret);
  assert.equal(token.tokenType, 'bearer');
  assert.equal(token.expiresIn, 3600);
  assert.equal(token.receivedAt, 42);
  assert.ok(token.accessToken.length > 20);
  assert.equal(sb.admin.counters().tokensMinted[clientId], 1);
});

test('bad credentials → ERR_UPSTREAM_REJECTED without the secret in it', async (t) => {
  const sb = await sandboxFor(t);
  const { clientId } = sb.admin.createClient();
  const login = createGenesysLogin({ loginBaseUrl: sb.url });
  const err = await login.clientCredentials(clientId, SECRET_MARK).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof GtbError);
  assert.equal(err.code, 'ERR_UPSTREAM_REJECTED');
  assertNoSecret(err, SECRET_MARK);
});

test('the login host\'s 400 "rate limit exceeded" → ERR_UPSTREAM_THROTTLED', async (t) => {
  const sb = await sandboxFor(t);
  const { clientId, clientSecret } = sb.admin.createClient();
  sb.admin.injectFault({ type: 'token-throttle', count: 1 });
  const login = createGenesysLogin({ loginBaseUrl: sb.url });
  await assert.rejects(login.clientCredentials(clientId, clientSecret), (err: GtbError) => {
    assert.equal(err.code, 'ERR_UPSTREAM_THROTTLED');
    assert.equal(err.retryAfter, undefined); // the sandbox, like Genesys as far as known, sends none
    assertNoSecret(err, clientSecret);
    return true;
  });
  // The fault was used up: the next call goes through.
  assert.ok((await login.clientCredentials(clientId, clientSecret)).accessToken);
});

test('5xx → ERR_UPSTREAM_UNAVAILABLE; latency past the timeout → ERR_UPSTREAM_TIMEOUT', async (t) => {
  const sb = await sandboxFor(t);
  const { clientId, clientSecret } = sb.admin.createClient();
  const login = createGenesysLogin({ loginBaseUrl: sb.url, timeoutMs: 300 });
  sb.admin.injectFault({ type: 'error5xx', status: 502, count: 1, route: '/oauth/token' });
  await assert.rejects(login.clientCredentials(clientId, clientSecret), { code: 'ERR_UPSTREAM_UNAVAILABLE' });
  sb.admin.injectFault({ type: 'latency', ms: 2_000, route: '/oauth/token' });
  await assert.rejects(login.clientCredentials(clientId, clientSecret), { code: 'ERR_UPSTREAM_TIMEOUT' });
});

test('an unreachable login host → ERR_UPSTREAM_UNAVAILABLE', async () => {
  const login = createGenesysLogin({ loginBaseUrl: 'http://127.0.0.1:1' });
  await assert.rejects(login.clientCredentials('id', SECRET_MARK), (err: GtbError) => {
    assert.equal(err.code, 'ERR_UPSTREAM_UNAVAILABLE');
    assertNoSecret(err, SECRET_MARK);
    return true;
  });
});

// The shapes below cannot be produced by the sandbox (it always answers well-formed JSON, never
// a 429 from the login host), so a tiny local server plays the login host.
test('429 with Retry-After, 400 rate limit with Retry-After, unauthorized_client, bad JSON, missing fields', async (t) => {
  let reply: { status: number; body: string; headers?: Record<string, string> } = { status: 200, body: '' };
  const base = await fakeServer(t, (req, res) => {
    req.resume();
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(reply.body);
  });
  const login = createGenesysLogin({ loginBaseUrl: `${base}/`, now: () => Date.UTC(2026, 0, 1) });
  const call = () => login.clientCredentials('id', SECRET_MARK);

  reply = { status: 429, body: '{"message":"Rate limit exceeded"}', headers: { 'retry-after': '7' } };
  await assert.rejects(call(), (err: GtbError) => err.code === 'ERR_UPSTREAM_THROTTLED' && err.retryAfter === 7);

  reply = { status: 400, body: '{"error":"invalid_request","description":"rate limit exceeded; try later"}', headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' } };
  await assert.rejects(call(), (err: GtbError) => err.code === 'ERR_UPSTREAM_THROTTLED' && err.retryAfter === 30);

  reply = { status: 400, body: '{"error":"invalid_request","error_description":"missing grant_type"}' };
  await assert.rejects(call(), { code: 'ERR_UPSTREAM_REJECTED' });

  reply = { status: 400, body: '{"error":"unauthorized_client","error_description":"client is inactive"}' };
  await assert.rejects(call(), { code: 'ERR_UPSTREAM_REJECTED' });

  reply = { status: 500, body: '<html>oops</html>' };
  await assert.rejects(call(), { code: 'ERR_UPSTREAM_UNAVAILABLE' });

  reply = { status: 200, body: '{"access_token": "abc",' };
  await assert.rejects(call(), { code: 'ERR_UPSTREAM_REJECTED' });

  reply = { status: 200, body: '{"access_token":"abc","token_type":"bearer"}' };
  await assert.rejects(call(), { code: 'ERR_UPSTREAM_REJECTED' });

  reply = { status: 200, body: '{"access_token":"abc","token_type":"mac","expires_in":60}' };
  await assert.rejects(call(), { code: 'ERR_UPSTREAM_REJECTED' });

  reply = { status: 200, body: '{"access_token":"abc","token_type":"Bearer","expires_in":60}' };
  const ok = await call();
  assert.equal(ok.tokenType, 'bearer');
  assert.equal(ok.expiresIn, 60);
});

test('options are validated where the client is built', () => {
  assert.throws(() => createGenesysLogin({ loginBaseUrl: 'ftp://x' }), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => createGenesysLogin({ loginBaseUrl: 'http://x', timeoutMs: 0 }), { code: 'ERR_CONFIG_INVALID' });
});
