import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSandbox } from '../src/index.js';
import { api, channelWith, clientWithToken, connect, sandbox, testClock, type ChannelInfo } from './helpers.js';

const head = async (sb: Awaited<ReturnType<typeof sandbox>>, token: string, c: ChannelInfo) => (await api(sb, token, 'HEAD', `/notifications/channels/${c.id}`)).status;

test('maxChannelsPerClient: one more channel than the cap removes the least recently used, connected or not, and closes its socket', async (t) => {
  const clock = testClock();
  const sb = await sandbox(t, { now: clock.now, maxChannelsPerClient: 3 });
  const { token } = await clientWithToken(sb);
  const channels: ChannelInfo[] = [];
  for (let i = 0; i < 3; i++) {
    channels.push(await channelWith(sb, token, ['v2.users.u1.presence']));
    clock.advance(1000);
  }
  const sockets = [];
  for (const c of channels) {
    sockets.push(await connect(t, c.connectUri));
    clock.advance(1000);
  }
  clock.advance(1000);
  // Every channel is connected: the one used longest ago (the first) goes, with its socket.
  const fourth = await channelWith(sb, token, []);
  assert.equal(await head(sb, token, channels[0]!), 404);
  assert.deepEqual(await Promise.all([channels[1]!, channels[2]!, fourth].map((c) => head(sb, token, c))), [200, 200, 200]);
  const closed = await sockets[0]!.closed;
  assert.equal(closed.code, 1000);
  assert.equal(sockets[1]!.isClosed(), false);
  assert.equal(sb.admin.counters().channelsEvicted, 1);
  assert.equal(sb.admin.listChannels().length, 3);
});

test('maxTopicsPerChannel: a subscribe beyond the cap is 400 and leaves the subscriptions as they were; a combined topic counts once', async (t) => {
  const sb = await sandbox(t, { maxTopicsPerChannel: 3 });
  const { token } = await clientWithToken(sb);
  const channel = await channelWith(sb, token, []);
  const path = `/notifications/channels/${channel.id}/subscriptions`;
  const ids = (...topics: string[]) => topics.map((id) => ({ id }));
  let res = await api(sb, token, 'PUT', path, ids('v2.users.a.presence', 'v2.users.b.presence', 'v2.users.c.presence', 'v2.users.d.presence'));
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { code: string }).code, 'bad.request');
  res = await api(sb, token, 'PUT', path, ids('v2.users.a?presence&routingStatus', 'v2.users.b.presence'));
  assert.equal(res.status, 200);
  assert.equal((await api(sb, token, 'POST', path, ids('v2.users.c.presence'))).status, 200);
  res = await api(sb, token, 'POST', path, ids('v2.users.d.presence'));
  assert.equal(res.status, 400);
  assert.deepEqual(sb.admin.getChannel(channel.id).topics, ['v2.users.a?presence&routingStatus', 'v2.users.b.presence', 'v2.users.c.presence']);
});

test('the defaults are Genesys documented caps, 20 and 1000; bad values are refused at start', () => {
  const { state } = createSandbox();
  assert.equal(state.options.maxChannelsPerClient, 20);
  assert.equal(state.options.maxTopicsPerChannel, 1000);
  for (const bad of [{ maxChannelsPerClient: 0 }, { maxTopicsPerChannel: 1.5 }, { maxTopicsPerChannel: -1 }]) {
    assert.throws(() => createSandbox(bad), (err: { code?: string; message?: string }) => err.code === 'ERR_CONFIG_INVALID' && /max(Channels|Topics)/.test(err.message ?? ''));
  }
});
