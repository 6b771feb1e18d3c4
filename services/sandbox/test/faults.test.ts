import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../../test/support/wait.js';
import { api, channelWith, clientWithToken, connect, sandbox, tokenRequest } from './helpers.js';

const TOPIC = 'v2.users.u1.presence';

async function oneSocket(t: Parameters<typeof sandbox>[0], options: Parameters<typeof sandbox>[1] = {}) {
  const sb = await sandbox(t, options);
  const client = await clientWithToken(sb);
  const channel = await channelWith(sb, client.token, [TOPIC]);
  const socket = await connect(t, channel.connectUri);
  return { sb, client, channel, socket };
}

test('drop: the socket is destroyed without a close frame (1006)', async (t) => {
  const { sb, socket } = await oneSocket(t);
  assert.deepEqual(sb.admin.injectFault({ type: 'drop' }), { id: 0, dropped: 1 });
  assert.equal((await socket.closed).code, 1006);
});

test('stall: no heartbeats, events or pongs until cleared; stalled events are lost and counted', async (t) => {
  const { sb, socket, channel } = await oneSocket(t, { heartbeatIntervalMs: 50 });
  sb.admin.injectFault({ type: 'stall', channelId: channel.id });
  const n = socket.frames.length;
  await sb.admin.generateEvents({ topic: TOPIC, count: 5 });
  socket.ws.send(JSON.stringify({ message: 'ping' }));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(socket.frames.length, n, 'nothing arrives while stalled');
  assert.equal(socket.isClosed(), false);
  assert.equal(sb.admin.counters().eventsDroppedByChannel[channel.id], 5);
  sb.admin.clearFaults();
  await sb.admin.generateEvents({ topic: TOPIC, count: 1 });
  await waitFor('events resume', () => socket.events().length === 1, { intervalMs: 10 });
  assert.equal(socket.events()[0]!.eventBody.sequence, 6);
});

test('duplicate every:n sends every n-th event twice with the same CorrelationId', async (t) => {
  const { sb, socket } = await oneSocket(t);
  sb.admin.injectFault({ type: 'duplicate', every: 2 });
  await sb.admin.generateEvents({ topic: TOPIC, count: 10 });
  await waitFor('15 frames', () => socket.events().length === 15, { intervalMs: 10 });
  const ids = socket.events().map((e) => e.metadata.CorrelationId);
  assert.equal(new Set(ids).size, 10);
  assert.equal(sb.admin.counters().eventsDuplicated, 5);
});

test('duplicate probability uses the injected random source', async (t) => {
  const { sb, socket } = await oneSocket(t, { random: () => 0.1 });
  sb.admin.injectFault({ type: 'duplicate', probability: 0.5 });
  await sb.admin.generateEvents({ topic: TOPIC, count: 4 });
  await waitFor('every event twice', () => socket.events().length === 8, { intervalMs: 10 });
});

test('reorder window:n delivers each window out of order; a partial window is flushed', async (t) => {
  const { sb, socket } = await oneSocket(t);
  sb.admin.injectFault({ type: 'reorder', window: 3 });
  await sb.admin.generateEvents({ topic: TOPIC, count: 7 });
  await waitFor('all events', () => socket.events().length === 7, { intervalMs: 10 });
  assert.deepEqual(socket.events().map((e) => e.eventBody.sequence), [3, 2, 1, 6, 5, 4, 7]);
});

test('latency delays matching routes only', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  sb.admin.injectFault({ type: 'latency', ms: 1_000, route: '/api/v2/tokens' });
  let started = Date.now();
  assert.equal((await api(sb, token, 'HEAD', '/tokens/me')).status, 200);
  assert.ok(Date.now() - started >= 990);
  started = Date.now();
  await api(sb, token, 'GET', '/notifications/availabletopics');
  assert.ok(Date.now() - started < 990);
});

test('token-throttle answers the 400 rate-limit body for count requests of a client', async (t) => {
  const sb = await sandbox(t);
  const a = sb.admin.createClient({ clientId: 'a' });
  const b = sb.admin.createClient({ clientId: 'b' });
  sb.admin.injectFault({ type: 'token-throttle', count: 2, clientId: 'a' });
  for (let i = 0; i < 2; i++) {
    const res = await tokenRequest(sb, a.clientId, a.clientSecret);
    assert.equal(res.status, 400);
    const body = (await res.json()) as Record<string, string>;
    assert.equal(body.error, 'invalid_request');
    assert.match(body.error_description!, /^rate limit exceeded;/);
  }
  assert.equal((await tokenRequest(sb, b.clientId, b.clientSecret)).status, 200);
  assert.equal((await tokenRequest(sb, a.clientId, a.clientSecret)).status, 200);
  const c = sb.admin.counters();
  assert.equal(c.tokenRequestsRejected.a, 2);
  assert.equal(c.tokensMinted.a, 1);
});

test('error5xx answers the given status count times on a route, then recovers', async (t) => {
  const sb = await sandbox(t);
  const { token, clientId, clientSecret } = await clientWithToken(sb);
  sb.admin.injectFault({ type: 'error5xx', status: 502, route: '/api/v2/notifications', count: 1 });
  assert.equal((await api(sb, token, 'HEAD', '/tokens/me')).status, 200);
  const res = await api(sb, token, 'POST', '/notifications/channels');
  assert.equal(res.status, 502);
  assert.equal(((await res.json()) as { code: string }).code, 'bad.gateway');
  assert.equal((await api(sb, token, 'POST', '/notifications/channels')).status, 200);
  sb.admin.injectFault({ type: 'error5xx', route: '/oauth/token', count: 1 });
  const login = await tokenRequest(sb, clientId, clientSecret);
  assert.equal(login.status, 503);
  assert.equal(((await login.json()) as { error: string }).error, 'server_error');
});

test('api-throttle answers 429 with the given Retry-After', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  sb.admin.injectFault({ type: 'api-throttle', retryAfterSeconds: 7, count: 1 });
  const res = await api(sb, token, 'GET', '/tokens/me');
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), '7');
  assert.equal(((await res.json()) as { code: string }).code, 'too.many.requests');
  assert.equal((await api(sb, token, 'GET', '/tokens/me')).status, 200);
});

test('bad faults are refused with ERR_VALIDATION', (t) => {
  return sandbox(t).then((sb) => {
    for (const fault of [{ type: 'explode' }, { type: 'reorder', window: 1 }, { type: 'duplicate' }, { type: 'error5xx', status: 418 }, { type: 'api-throttle' }, null]) {
      assert.throws(() => sb.admin.injectFault(fault as never), { code: 'ERR_VALIDATION' }, JSON.stringify(fault));
    }
  });
});
