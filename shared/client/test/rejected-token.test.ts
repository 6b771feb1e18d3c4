import { test } from 'node:test';
import assert from 'node:assert/strict';
import platformClient from 'purecloud-platform-client-v2';
import { attachToGenesysSdk, createBrokerClient, createLeaseHelper, type BrokerToken } from '../src/index.js';
import { waitFor } from '../../../test/support/wait.js';
import { startSystem } from './system-harness.js';

/** What another app holding the same token can do: revoke it at Genesys (`DELETE /api/v2/tokens/me`). */
async function revokeAtGenesys(sandboxUrl: string, token: string): Promise<void> {
  const res = await fetch(`${sandboxUrl}/api/v2/tokens/me`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
}

async function tokensMeStatus(sandboxUrl: string, token: string): Promise<number> {
  return (await fetch(`${sandboxUrl}/api/v2/tokens/me`, { headers: { authorization: `Bearer ${token}` } })).status;
}

test('reportRejected: a token revoked at Genesys is replaced once, cached, and the old report is harmless', async (t) => {
  const sys = await startSystem(t);
  const client = createBrokerClient({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('app') });
  const dead = await client.getToken('sales');
  await revokeAtGenesys(sys.sandbox.url, dead.accessToken);
  assert.equal(await tokensMeStatus(sys.sandbox.url, dead.accessToken), 401);
  // Before the report the broker still hands out the dead token: that is the hole being closed.
  assert.equal((await client.getToken('sales', { forceRefresh: true })).fingerprint, dead.fingerprint);

  const next = await client.reportRejected('sales', dead);
  assert.equal(next.replaced, true);
  assert.notEqual(next.fingerprint, dead.fingerprint);
  assert.equal(await tokensMeStatus(sys.sandbox.url, next.accessToken), 200);
  assert.equal((await client.getToken('sales')).fingerprint, next.fingerprint, 'the cache holds the replacement');
  assert.equal(sys.mints('sales'), 2);

  // A second holder reporting the same dead token (by fingerprint) gets the replacement, no new mint.
  const other = createBrokerClient({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('app') });
  const again = await other.reportRejected('sales', dead.fingerprint);
  assert.equal(again.replaced, false);
  assert.equal(again.fingerprint, next.fingerprint);
  // A report of a live token does not force a mint: the broker asks Genesys first.
  const live = await other.reportRejected('sales', next.accessToken);
  assert.equal(live.fingerprint, next.fingerprint);
  assert.equal(sys.mints('sales'), 2);
});

test('lease helper: reportRejected hands the replacement over as a rotation', async (t) => {
  const sys = await startSystem(t);
  const tokens: { token: BrokerToken; rotated: boolean }[] = [];
  const helper = createLeaseHelper({
    url: sys.broker.url, getIdentityToken: () => sys.tokenFor('app'), profile: 'sales', holder: 'test/rejected', ttlSeconds: 60,
    onToken: (token, { rotated }) => { tokens.push({ token, rotated }); },
  });
  t.after(() => helper.stop());
  const first = await helper.start();
  await revokeAtGenesys(sys.sandbox.url, first.token.accessToken);
  const [a, b] = await Promise.all([helper.reportRejected(), helper.reportRejected()]);
  assert.equal(a.token.fingerprint, b.token.fingerprint);
  assert.notEqual(a.token.fingerprint, first.token.fingerprint);
  assert.equal(helper.current()?.token.fingerprint, a.token.fingerprint);
  await waitFor('onToken with the replacement', () => tokens.some((x) => x.rotated && x.token.fingerprint === a.token.fingerprint));
  assert.equal(sys.mints('sales'), 2, 'one replacement');
});

test('the Genesys SDK: a call answered 401 (token revoked elsewhere) is reported and retried once', async (t) => {
  const sys = await startSystem(t);
  const broker = createBrokerClient({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('app') });
  const ApiClientClass = platformClient.ApiClient.constructor as unknown as new () => typeof platformClient.ApiClient;
  const apiClient = new ApiClientClass();
  apiClient.setGateway({ host: '127.0.0.1', protocol: 'http', port: Number(new URL(sys.sandbox.url).port), path_params_login: '', path_params_api: '' });
  const attachment = attachToGenesysSdk(apiClient, broker, 'sales', { checkEveryMs: 60_000 });
  t.after(() => attachment.stop());
  const first = await attachment.ready;
  const tokensApi = new platformClient.TokensApi(apiClient);
  assert.ok((await tokensApi.getTokensMe()).OAuthClient);

  await revokeAtGenesys(sys.sandbox.url, first.accessToken);
  // Two calls at once: both get 401, one report replaces the token, both retry and succeed.
  const [x, y] = await Promise.all([tokensApi.getTokensMe(), tokensApi.getTokensMe()]);
  assert.equal(x.OAuthClient?.id, sys.clientIds['sales']);
  assert.equal(y.OAuthClient?.id, sys.clientIds['sales']);
  assert.equal(sys.mints('sales'), 2, 'one replacement for both calls');
  assert.notEqual((await broker.getToken('sales')).fingerprint, first.fingerprint);

  // Without the hook the app sees the 401 (what happened before).
  attachment.stop();
  await revokeAtGenesys(sys.sandbox.url, (await broker.getToken('sales')).accessToken);
  await assert.rejects(tokensApi.getTokensMe(), (err: { status?: number }) => err.status === 401);
});
