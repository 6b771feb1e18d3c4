import { test } from 'node:test';
import assert from 'node:assert/strict';
import platformClient from 'purecloud-platform-client-v2';
import { attachToGenesysSdk, createBrokerClient, isBrokerClientError, type BrokerToken } from '../src/index.js';
import type { GtbError } from '@gtb/errors';
import { waitFor } from '../../../test/support/wait.js';
import { startSystem } from './system-harness.js';
import { deadUrl } from './contract-server.js';

/** A fresh SDK ApiClient (not the shared singleton) with its gateway on the sandbox. */
function sdkClient(sandboxUrl: string) {
  const ApiClientClass = platformClient.ApiClient.constructor as unknown as new () => typeof platformClient.ApiClient;
  const client = new ApiClientClass();
  const port = Number(new URL(sandboxUrl).port);
  client.setGateway({ host: '127.0.0.1', protocol: 'http', port, path_params_login: '', path_params_api: '' });
  return client;
}

test('the Genesys SDK calls the sandbox with the broker token, and follows a rotation', async (t) => {
  const sys = await startSystem(t);
  const broker = createBrokerClient({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('app') });
  const ops = createBrokerClient({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('ops') });
  const apiClient = sdkClient(sys.sandbox.url);
  const seen: BrokerToken[] = [];
  // These two lines are what an app changes: no loginClientCredentialsGrant, no client secret.
  const attachment = attachToGenesysSdk(apiClient, broker, 'sales', { onToken: (tok) => seen.push(tok), checkEveryMs: 100 });
  t.after(() => attachment.stop());
  const first = await attachment.ready;

  const tokensApi = new platformClient.TokensApi(apiClient);
  const me = await tokensApi.getTokensMe();
  assert.equal(me.OAuthClient?.id, sys.clientIds['sales']);
  assert.equal(sys.mints('sales'), 1, 'one Genesys login, done by the broker');

  const rotated = await ops.rotate('sales');
  await waitFor('the SDK to get the rotated token', () => seen.some((tok) => tok.fingerprint === rotated.fingerprint), { intervalMs: 20 });
  assert.notEqual(rotated.fingerprint, first.fingerprint);
  assert.ok((await tokensApi.getTokensMe()).OAuthClient, 'the SDK works with the rotated token');
  assert.equal(seen.length, 2);
});

test('attach reports errors and keeps retrying; stop ends it', async (t) => {
  const broker = createBrokerClient({ url: await deadUrl(), getIdentityToken: async () => 'x', timeoutMs: 500 });
  const errors: GtbError[] = [];
  const apiClient = { setAccessToken: () => assert.fail('no token should be set') };
  const attachment = attachToGenesysSdk(apiClient, broker, 'sales', { onError: (e) => errors.push(e), retryMs: 20, maxRetryMs: 40 });
  t.after(() => attachment.stop());
  await assert.rejects(attachment.ready, (err) => isBrokerClientError(err, 'ERR_BROKER_UNREACHABLE'));
  await waitFor('retries', () => errors.length >= 3, { intervalMs: 20 });
  attachment.stop();
  const after = errors.length;
  await new Promise((r) => setTimeout(r, 150));
  assert.ok(errors.length <= after + 1, 'no retries after stop');
  assert.throws(() => attachToGenesysSdk({} as never, broker, 'sales'), (err: GtbError) => err.code === 'ERR_CONFIG_INVALID');
});
