import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GtbError } from '@gtb/errors';
import { createGenesysApi, createGenesysLogin } from '../src/index.js';
import { fakeServer, sandboxFor } from './helpers.js';

test('tokenInfo then revokeToken against the sandbox; a revoked token is refused', async (t) => {
  const sb = await sandboxFor(t);
  const { clientId, clientSecret } = sb.admin.createClient();
  const { accessToken } = await createGenesysLogin({ loginBaseUrl: sb.url }).clientCredentials(clientId, clientSecret);
  const api = createGenesysApi({ apiBaseUrl: sb.url });
  const info = await api.tokenInfo(accessToken);
  assert.equal(info.OAuthClient?.id, clientId);
  await api.revokeToken(accessToken);
  assert.equal(sb.admin.counters().tokensRevoked, 1);
  await assert.rejects(api.tokenInfo(accessToken), (err: GtbError) => {
    assert.equal(err.code, 'ERR_UPSTREAM_REJECTED');
    assert.equal(err.details?.upstreamStatus, 401);
    assert.ok(!err.message.includes(accessToken));
    return true;
  });
});

test('API 429 → ERR_UPSTREAM_THROTTLED with Retry-After; 5xx → ERR_UPSTREAM_UNAVAILABLE', async (t) => {
  const sb = await sandboxFor(t);
  const { clientId, clientSecret } = sb.admin.createClient();
  const { accessToken } = await createGenesysLogin({ loginBaseUrl: sb.url }).clientCredentials(clientId, clientSecret);
  const api = createGenesysApi({ apiBaseUrl: sb.url });
  sb.admin.injectFault({ type: 'api-throttle', retryAfterSeconds: 9, count: 1 });
  await assert.rejects(api.tokenInfo(accessToken), (err: GtbError) => err.code === 'ERR_UPSTREAM_THROTTLED' && err.retryAfter === 9);
  sb.admin.injectFault({ type: 'error5xx', status: 503, count: 1, route: '/api/v2/tokens' });
  await assert.rejects(api.revokeToken(accessToken), { code: 'ERR_UPSTREAM_UNAVAILABLE' });
});

// The sandbox always answers JSON; a local server plays a broken API host.
test('a 200 without a JSON object → ERR_UPSTREAM_REJECTED', async (t) => {
  const base = await fakeServer(t, (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('[1,2');
  });
  await assert.rejects(createGenesysApi({ apiBaseUrl: base }).tokenInfo('t'), { code: 'ERR_UPSTREAM_REJECTED' });
});
