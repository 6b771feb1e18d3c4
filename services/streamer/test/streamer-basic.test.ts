import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../../test/support/wait.js';
import { checkSequences, startStreamSystem, STREAM, TOPIC } from './support/stream-system.js';

test('forwards every generated event once, skips heartbeats, and reports lifecycle events', { timeout: 40_000 }, async (t) => {
  const sys = await startStreamSystem();
  t.after(() => sys.close());
  const s = await sys.startStreamer();
  await waitFor('socket receiving', () => s.streamer.health().ready, { timeoutMs: 15_000 });
  const result = await sys.sandbox.admin.generateEvents({ topic: TOPIC, count: 300, ratePerSecond: 600 });
  await waitFor('all events in the output', async () => (await sys.output()).length >= result.sent, { timeoutMs: 15_000 });
  const out = await sys.output();
  assert.equal(out.length, 300);
  assert.deepEqual(checkSequences(out.map((e) => e.sequence), 300), { missing: [], duplicated: [] });
  assert.ok(out.every((e) => e.id.startsWith(`${TOPIC}:`)));
  const types = new Set((await sys.lifecycle()).map((e) => e.type));
  for (const type of ['stream.handshake_initiated', 'stream.connected']) assert.ok(types.has(type as never), type);
  const metrics = await s.streamer.metrics.registry.metrics();
  assert.match(metrics, /gtb_streamer_events_out_total\{stream="queues"\} 300/);
  // The connect URI is a capability and must never be logged whole.
  assert.ok(!s.lines.some((l) => /ws:\/\/[^"]*\/channels\//.test(l)), 'connectUri logged');
  assert.equal(s.gaps.length, 0);
});

test('a stream with a forbidden topic refuses to run, and reports it', { timeout: 30_000 }, async (t) => {
  const sys = await startStreamSystem({ allowedTopics: ['v2.routing.queues.*'] });
  t.after(() => sys.close());
  const s = await sys.startStreamer({ streams: [{ name: STREAM, profile: 'sales', topics: [TOPIC, 'v2.users.u1.presence'] }] });
  await waitFor('failed status', () => s.streamer.health().streams[0]?.failed, { timeoutMs: 15_000 });
  assert.equal(s.streamer.health().ready, false);
  assert.match(await s.streamer.metrics.registry.metrics(), /gtb_streamer_topics_rejected_total\{stream="queues"\} [1-9]/);
  const dropped = await waitFor('stream.dropped', async () => (await sys.lifecycle(['stream.dropped'])).find((e) => e.type === 'stream.dropped' && e.data.reason.includes('rejected')), { timeoutMs: 15_000 });
  assert.ok(dropped);
  assert.ok(s.lines.some((l) => l.includes('rejected topics')));
});

test('allowPartialTopics runs on the accepted topics', { timeout: 30_000 }, async (t) => {
  const sys = await startStreamSystem({ allowedTopics: ['v2.routing.queues.*'] });
  t.after(() => sys.close());
  const s = await sys.startStreamer({ streams: [{ name: STREAM, profile: 'sales', topics: [TOPIC, 'v2.users.u1.presence'], allowPartialTopics: true }] });
  await waitFor('ready', () => s.streamer.health().ready, { timeoutMs: 15_000 });
  await sys.sandbox.admin.generateEvents({ topic: TOPIC, count: 20 });
  await waitFor('20 events', async () => (await sys.output()).length === 20, { timeoutMs: 15_000 });
});
