import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../../test/support/wait.js';
import { api, channelWith, clientWithToken, connect, sandbox, testClock, upgradeStatus } from './helpers.js';

const TOPIC = 'v2.users.u1.presence';

test('heartbeats every heartbeatIntervalMs; {"message":"ping"} → pong', async (t) => {
  const sb = await sandbox(t, { heartbeatIntervalMs: 100 });
  const { token } = await clientWithToken(sb);
  const channel = await channelWith(sb, token, [TOPIC]);
  const s = await connect(t, channel.connectUri);
  const heartbeats = () => s.frames.filter((f) => JSON.stringify(f) === '{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}').length;
  await waitFor('two heartbeats', () => heartbeats() >= 2, { intervalMs: 10 });
  s.ws.send(JSON.stringify({ message: 'ping' }));
  await waitFor('pong', () => s.frames.some((f) => JSON.stringify(f) === '{"topicName":"channel.metadata","eventBody":{"message":"pong"}}'), { intervalMs: 10 });
  // Garbage from the client is ignored, not fatal.
  s.ws.send('not json');
  s.ws.send(Buffer.from([1, 2, 3]));
  const before = heartbeats();
  await waitFor('heartbeat after garbage', () => heartbeats() > before, { intervalMs: 10 });
  assert.equal(s.isClosed(), false);
});

test('generated events reach subscribed sockets with per-topic sequences and unique CorrelationIds', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  const c1 = await channelWith(sb, token, [TOPIC]);
  const c2 = await channelWith(sb, token, ['v2.users.u1?presence&routingStatus']);
  const c3 = await channelWith(sb, token, ['v2.users.u2.presence']);
  const [s1, s2, s3] = [await connect(t, c1.connectUri), await connect(t, c2.connectUri), await connect(t, c3.connectUri)];
  const result = await sb.admin.generateEvents({ topic: TOPIC, count: 50 });
  assert.deepEqual(result, { sent: 50, delivered: 100, firstSequence: 1, lastSequence: 50 });
  await waitFor('events', () => s1.events().length === 50 && s2.events().length === 50, { intervalMs: 10 });
  const first = s1.events()[0]!;
  assert.deepEqual(Object.keys(first).sort(), ['eventBody', 'metadata', 'topicName', 'version']);
  assert.equal((first as unknown as { version: string }).version, '2');
  assert.equal((first.metadata as { type?: string }).type, 'message');
  assert.deepEqual(s1.events().map((e) => e.eventBody.sequence), Array.from({ length: 50 }, (_, i) => i + 1));
  assert.equal(new Set(s1.events().map((e) => e.metadata.CorrelationId)).size, 50);
  assert.equal(s3.events().length, 0);
  const next = await sb.admin.generateEvents({ topic: TOPIC, count: 1, channelId: c1.id });
  assert.equal(next.firstSequence, 51);
  await waitFor('targeted event', () => s1.events().length === 51, { intervalMs: 10 });
  assert.equal(s2.events().length, 50);
  const c = sb.admin.counters();
  assert.equal(c.eventsGenerated[TOPIC], 51);
  assert.equal(c.eventsSentByChannel[c1.id], 51);
  assert.equal(c.eventsSentByTopic[TOPIC], 101);
});

test('ratePerSecond paces generation', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  const channel = await channelWith(sb, token, [TOPIC]);
  const s = await connect(t, channel.connectUri);
  const started = Date.now();
  await sb.admin.generateEvents({ topic: TOPIC, count: 11, ratePerSecond: 50 });
  assert.ok(Date.now() - started >= 180, 'at 50/s, 11 events take about 200 ms');
  await waitFor('events', () => s.events().length === 11, { intervalMs: 10 });
});

test('a second socket on the same channel closes the first', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  const channel = await channelWith(sb, token, [TOPIC]);
  const first = await connect(t, channel.connectUri);
  const second = await connect(t, channel.connectUri);
  const closed = await first.closed;
  assert.equal(closed.code, 1000);
  await sb.admin.generateEvents({ topic: TOPIC, count: 3 });
  await waitFor('events on the second socket', () => second.events().length === 3, { intervalMs: 10 });
  assert.equal(first.events().length, 0);
  const c = sb.admin.counters();
  assert.equal(c.socketsOpened, 2);
  await waitFor('close counted', () => sb.admin.counters().socketsClosed === 1, { intervalMs: 10 });
});

test('unknown channel: the upgrade is refused with 404', async (t) => {
  const sb = await sandbox(t);
  assert.equal(await upgradeStatus(`${sb.wsUrl}/channels/streaming-1-doesnotexist`), 404);
  assert.equal(await upgradeStatus(`${sb.wsUrl}/elsewhere`), 404);
});

test('planned close: v2.system.socket_closing, then close after socketClosingNoticeMs; without notice at once', async (t) => {
  const sb = await sandbox(t, { socketClosingNoticeMs: 300 });
  const { token } = await clientWithToken(sb);
  const channel = await channelWith(sb, token, [TOPIC]);
  const s = await connect(t, channel.connectUri);
  const started = Date.now();
  sb.admin.closeSocket(channel.id, { notice: true });
  await waitFor('closing notice', () => s.frames.some((f) => f.topicName === 'v2.system.socket_closing'), { intervalMs: 10 });
  const closed = await s.closed;
  assert.ok(Date.now() - started >= 250, 'closed after the notice period');
  assert.equal(closed.code, 1001);
  // Reconnecting to the same connectUri works, as upstream.
  const again = await connect(t, channel.connectUri);
  sb.admin.closeSocket(channel.id, { notice: false });
  await again.closed;
  assert.equal(again.frames.some((f) => f.topicName === 'v2.system.socket_closing'), false);
});

test('token expiry closes the socket 1000 "Token expired or invalid" only when configured', async (t) => {
  for (const closeOnExpiry of [true, false]) {
    const clock = testClock();
    const sb = await sandbox(t, { now: clock.now, closeSocketOnTokenExpiry: closeOnExpiry, heartbeatIntervalMs: 50 });
    const { token } = await clientWithToken(sb, { tokenLifetimeSeconds: 300 });
    const channel = await channelWith(sb, token, [TOPIC]);
    const s = await connect(t, channel.connectUri);
    clock.advance(300_000);
    if (closeOnExpiry) {
      assert.deepEqual(await s.closed, { code: 1000, reason: 'Token expired or invalid' });
    } else {
      const n = s.frames.length;
      await waitFor('heartbeats continue', () => s.frames.length >= n + 3, { intervalMs: 10 });
      assert.equal(s.isClosed(), false);
    }
  }
});

test('DELETE /tokens/me sends v2.system.token_revoked and closes the channels it created', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  const channel = await channelWith(sb, token, [TOPIC]);
  const s = await connect(t, channel.connectUri);
  assert.equal((await api(sb, token, 'DELETE', '/tokens/me')).status, 200);
  const closed = await s.closed;
  assert.equal(closed.code, 1000);
  const notice = s.frames.find((f) => f.topicName === `v2.system.token_revoked.${channel.id}`);
  assert.ok(notice);
  assert.equal((notice!.eventBody as { systemTopicType: string }).systemTopicType, 'token_revoked');
  assert.equal(await upgradeStatus(channel.connectUri), 404);
});

test('revocation behaviour is configurable: no notice, socket kept', async (t) => {
  const sb = await sandbox(t, { sendTokenRevokedNotice: false, closeSocketOnTokenRevoked: false, heartbeatIntervalMs: 50 });
  const { token } = await clientWithToken(sb);
  const channel = await channelWith(sb, token, [TOPIC]);
  const s = await connect(t, channel.connectUri);
  sb.admin.revokeToken(token);
  await sb.admin.generateEvents({ topic: TOPIC, count: 1 });
  await waitFor('event after revocation', () => s.events().length === 1, { intervalMs: 10 });
  assert.equal(s.frames.some((f) => String(f.topicName).startsWith('v2.system.token_revoked')), false);
  assert.equal(s.isClosed(), false);
});
