import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../../test/support/wait.js';
import { fingerprint } from '@gtb/logger';
import type { ChannelAdminView } from '../src/index.js';
import { ADMIN_KEY, adminCall, channelWith, clientWithToken, connect, sandbox, testClock } from './helpers.js';

test('GET /__sandbox/channels lists live channels with topics and sockets; ?clientId narrows; one channel by id', async (t) => {
  const clock = testClock();
  const sb = await sandbox(t, { now: clock.now, channelLifetimeMs: 3_600_000 });
  const a = await clientWithToken(sb);
  const b = await clientWithToken(sb);
  const c1 = await channelWith(sb, a.token, ['v2.users.u1.presence']);
  clock.advance(1000);
  const c2 = await channelWith(sb, a.token, []);
  const c3 = await channelWith(sb, b.token, ['v2.routing.queues.q1.conversations']);
  const socket = await connect(t, c1.connectUri);
  await sb.admin.generateEvents({ topic: 'v2.users.u1.presence', count: 2 });
  await waitFor('two events', () => socket.events().length === 2, { intervalMs: 10 });

  let res = await adminCall(sb, 'GET', '/channels');
  assert.equal(res.status, 200);
  let list = ((await res.json()) as { entities: ChannelAdminView[] }).entities;
  assert.deepEqual(list.map((c) => c.id), [c1.id, c2.id, c3.id]);
  const first = list[0]!;
  assert.equal(first.clientId, a.clientId);
  assert.equal(first.tokenFingerprint, fingerprint(a.token));
  assert.deepEqual(first.topics, ['v2.users.u1.presence']);
  assert.equal(first.expires, c1.expires);
  assert.deepEqual(first.socket, { openedAt: new Date(clock.now()).toISOString(), eventsSent: 2 });
  assert.equal(first.socketsOpened, 1);
  assert.equal(list[1]!.socket, null);

  res = await adminCall(sb, 'GET', `/channels?clientId=${encodeURIComponent(b.clientId)}`);
  list = ((await res.json()) as { entities: ChannelAdminView[] }).entities;
  assert.deepEqual(list.map((c) => c.id), [c3.id]);

  // After a drop the channel stays, without a socket; a reconnect counts a second socket.
  sb.admin.injectFault({ type: 'drop', channelId: c1.id });
  await socket.closed;
  await waitFor('socket gone', () => sb.admin.getChannel(c1.id).socket === null, { intervalMs: 10 });
  await connect(t, c1.connectUri);
  res = await adminCall(sb, 'GET', `/channels/${c1.id}`);
  const one = (await res.json()) as ChannelAdminView;
  assert.equal(one.socketsOpened, 2);
  assert.equal(one.socket?.eventsSent, 0);

  // Expired channels are gone from the list.
  clock.advance(3_600_000);
  assert.deepEqual(((await (await adminCall(sb, 'GET', '/channels')).json()) as { entities: unknown[] }).entities, []);
  assert.equal((await adminCall(sb, 'GET', `/channels/${c1.id}`)).status, 404);
});

test('the channel list needs the admin key, and does not exist without one', async (t) => {
  const sb = await sandbox(t);
  assert.equal((await adminCall(sb, 'GET', '/channels', undefined, null)).status, 401);
  assert.equal((await adminCall(sb, 'GET', '/channels', undefined, `${ADMIN_KEY}x`)).status, 403);
  const open = await sandbox(t, { adminKey: '' });
  const res = await fetch(`${open.url}/__sandbox/channels`);
  assert.equal(res.status, 404);
});
