import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../../test/support/wait.js';
import { api, channelWith, clientWithToken, connect, sandbox, testClock, tokenRequest, upgradeStatus, type ChannelInfo } from './helpers.js';

test('POST /notifications/channels → 200 {connectUri, id, expires} in Genesys shapes', async (t) => {
  const clock = testClock();
  const sb = await sandbox(t, { now: clock.now });
  const { token } = await clientWithToken(sb);
  const res = await api(sb, token, 'POST', '/notifications/channels');
  assert.equal(res.status, 200);
  const channel = (await res.json()) as ChannelInfo;
  assert.match(channel.id, /^streaming-\d+-[a-z0-9]{26}$/);
  assert.equal(channel.connectUri, `${sb.wsUrl}/channels/${channel.id}`);
  assert.equal(channel.expires, new Date(clock.now() + 24 * 3_600_000).toISOString());
  assert.equal((await api(sb, token, 'HEAD', `/notifications/channels/${channel.id}`)).status, 200);
  assert.equal((await api(sb, token, 'HEAD', '/notifications/channels/streaming-1-nope')).status, 404);
  assert.equal(sb.admin.counters().channelsCreated, 1);
});

test('the 21st channel removes the oldest by last use, unconnected ones first', async (t) => {
  const clock = testClock();
  const sb = await sandbox(t, { now: clock.now });
  const { token } = await clientWithToken(sb);
  const channels: ChannelInfo[] = [];
  for (let i = 0; i < 20; i++) {
    channels.push(await channelWith(sb, token, []));
    clock.advance(1000);
  }
  // The oldest is connected, so the second oldest (unconnected) goes first.
  const socket = await connect(t, channels[0]!.connectUri);
  const c21 = await channelWith(sb, token, []);
  assert.equal((await api(sb, token, 'HEAD', `/notifications/channels/${channels[1]!.id}`)).status, 404);
  assert.equal((await api(sb, token, 'HEAD', `/notifications/channels/${channels[0]!.id}`)).status, 200);
  assert.equal((await api(sb, token, 'HEAD', `/notifications/channels/${c21.id}`)).status, 200);
  assert.equal(socket.isClosed(), false);
  assert.equal(sb.admin.counters().channelsEvicted, 1);
});

test('the cap counts per OAuth client, not per token; another client keeps its channels', async (t) => {
  const sb = await sandbox(t);
  const a = await clientWithToken(sb);
  const token2 = ((await (await tokenRequest(sb, a.clientId, a.clientSecret)).json()) as { access_token: string }).access_token;
  const b = await clientWithToken(sb);
  const bChannel = await channelWith(sb, b.token, []);
  const first = await channelWith(sb, a.token, []);
  for (let i = 0; i < 19; i++) await channelWith(sb, token2, []);
  await channelWith(sb, token2, []);
  assert.equal((await api(sb, a.token, 'HEAD', `/notifications/channels/${first.id}`)).status, 404);
  assert.equal((await api(sb, b.token, 'HEAD', `/notifications/channels/${bChannel.id}`)).status, 200);
});

test('GET channels: includechannels=token shows own; oauthclient shows the others without ids; bad value 400', async (t) => {
  const sb = await sandbox(t);
  const a = await clientWithToken(sb);
  const token2 = ((await (await tokenRequest(sb, a.clientId, a.clientSecret)).json()) as { access_token: string }).access_token;
  const mine = await channelWith(sb, a.token, []);
  await channelWith(sb, token2, []);
  let res = await api(sb, a.token, 'GET', '/notifications/channels');
  let body = (await res.json()) as { entities: Partial<ChannelInfo>[] };
  assert.deepEqual(body.entities.map((e) => e.id), [mine.id]);
  res = await api(sb, a.token, 'GET', '/notifications/channels?includechannels=oauthclient');
  body = (await res.json()) as { entities: Partial<ChannelInfo>[] };
  assert.equal(body.entities.length, 2);
  const hidden = body.entities.find((e) => e.id !== mine.id)!;
  assert.equal(hidden.id, undefined);
  assert.equal(hidden.connectUri, undefined);
  assert.equal(typeof hidden.expires, 'string');
  res = await api(sb, a.token, 'GET', '/notifications/channels?includechannels=everything');
  assert.equal(res.status, 400);
});

test('channels of another client are 404; channels expire with the clock', async (t) => {
  const clock = testClock();
  const sb = await sandbox(t, { now: clock.now, channelLifetimeMs: 60_000 });
  const a = await clientWithToken(sb);
  const b = await clientWithToken(sb);
  const channel = await channelWith(sb, a.token, []);
  assert.equal((await api(sb, b.token, 'HEAD', `/notifications/channels/${channel.id}`)).status, 404);
  assert.equal((await api(sb, b.token, 'GET', `/notifications/channels/${channel.id}/subscriptions`)).status, 404);
  const socket = await connect(t, channel.connectUri);
  clock.advance(60_000);
  assert.equal((await api(sb, a.token, 'HEAD', `/notifications/channels/${channel.id}`)).status, 404);
  const closed = await socket.closed;
  assert.equal(closed.code, 1000);
  assert.equal(closed.reason, 'Channel expired');
  assert.equal(await upgradeStatus(channel.connectUri), 404);
  await waitFor('expiry counted', () => sb.admin.counters().channelsExpired === 1, { intervalMs: 10 });
});
