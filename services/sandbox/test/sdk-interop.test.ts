import assert from 'node:assert/strict';
import { test } from 'node:test';
import platformClient from 'purecloud-platform-client-v2';
import { waitFor } from '../../../test/support/wait.js';
import { connect, sandbox } from './helpers.js';

test('the official JS SDK logs in, creates a channel, subscribes; a ws client receives events and heartbeats', async (t) => {
  const sb = await sandbox(t, { heartbeatIntervalMs: 100 });
  const { clientId, clientSecret } = sb.admin.createClient({ name: 'sdk app' });
  const port = Number(new URL(sb.url).port);
  const client = platformClient.ApiClient.instance;
  client.setGateway({ host: '127.0.0.1', protocol: 'http', port, path_params_login: '', path_params_api: '' });
  const auth = await client.loginClientCredentialsGrant(clientId, clientSecret);
  assert.equal(typeof auth.accessToken, 'string');
  assert.equal(sb.admin.counters().tokensMinted[clientId], 1);

  const notifications = new platformClient.NotificationsApi(client);
  const channel = await notifications.postNotificationsChannels();
  assert.match(channel.id ?? '', /^streaming-\d+-[a-z0-9]{26}$/);
  const topic = 'v2.users.5a3c0f7e-1b2d-4e5f-8a9b-0c1d2e3f4a5b.presence';
  const subs = await notifications.putNotificationsChannelSubscriptions(channel.id!, [{ id: topic }]);
  assert.deepEqual(subs.entities?.map((e) => e.id), [topic]);

  const socket = await connect(t, channel.connectUri!);
  await sb.admin.generateEvents({ topic, count: 5 });
  await waitFor('five events', () => socket.events(topic).length === 5, { intervalMs: 10 });
  await waitFor('a heartbeat', () => socket.frames.some((f) => f.topicName === 'channel.metadata'), { intervalMs: 10 });

  const tokens = new platformClient.TokensApi(client);
  const me = await tokens.getTokensMe();
  assert.equal(me.OAuthClient?.id, clientId);
  await tokens.deleteTokensMe();
  await socket.closed;
  // The SDK rejects with the ErrorBody itself.
  await assert.rejects(tokens.getTokensMe(), (err: { status?: number; code?: string }) => err.status === 401 && err.code === 'bad.credentials');
});
