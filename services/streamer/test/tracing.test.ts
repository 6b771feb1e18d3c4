// The streamer's traces, from an in-memory exporter registered in this test process: the lease
// (continuing into the broker's trace), each connect (channel create, subscribe, socket), a rollover
// with its overlap, batch writes, and a gap; no channel id, connect URI or token in any span.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTracing } from '@gtb/tracing/sdk';
import { waitFor } from '../../../test/support/wait.js';
import { startStreamSystem, TOPIC } from './support/stream-system.js';

const exporter = new InMemorySpanExporter();
const tracing = startTracing({ serviceName: 'gtb-streamer-test', exporter, require: createRequire(import.meta.url) });

const spans = () => exporter.getFinishedSpans();
const named = (name: string, list = spans()) => list.filter((s) => s.name === name);
const inTrace = (traceId: string) => spans().filter((s) => s.spanContext().traceId === traceId);
const childrenOf = (span: ReadableSpan) => spans().filter((s) => s.parentSpanContext?.spanId === span.spanContext().spanId);

test('lease, connect, rollover (trigger, overlap), batch writes and a gap are traced; nothing secret in a span', { timeout: 60_000 }, async (t) => {
  const sys = await startStreamSystem();
  t.after(async () => {
    await sys.close();
    await tracing.shutdown();
  });
  const s = await sys.startStreamer();
  await waitFor('ready', () => s.streamer.health().ready, { timeoutMs: 15_000 });
  const channels = new Set(sys.sandbox.admin.connectedChannels());
  await sys.sandbox.admin.generateEvents({ topic: TOPIC, count: 50, ratePerSecond: 500 });
  await waitFor('50 events written', async () => (await sys.output()).length >= 50, { timeoutMs: 15_000 });

  // A rotation at the broker: the streamer rolls over (make-before-break) as token_rotated.
  await sys.rotate();
  await waitFor('a token_rotated rollover span', () => named('gtb.streamer.rollover').some((r) => r.attributes['gtb.rollover.trigger'] === 'token_rotated'), { timeoutMs: 15_000 });
  for (const id of sys.sandbox.admin.connectedChannels()) channels.add(id);

  // An unplanned drop of the only socket: a gap from its last frame to the reconnected socket's first.
  const current = sys.channelIdOf(s.streamer.health().streams[0]?.channelFingerprint);
  assert.ok(current);
  sys.sandbox.admin.closeSocket(current, { notice: false });
  await waitFor('a gap span', () => named('gtb.streamer.gap').length > 0, { timeoutMs: 15_000 });
  for (const id of sys.sandbox.admin.connectedChannels()) channels.add(id);
  await tracing.flush();

  // The lease: its broker call continues into the broker's own trace (same process here, same exporter).
  const lease = named('gtb.streamer.lease')[0];
  assert.ok(lease, 'a lease span');
  const leaseTrace = inTrace(lease.spanContext().traceId);
  assert.ok(leaseTrace.some((x) => x.name === 'gtb.identity.verify'), 'the broker\'s identity verification is in the lease\'s trace');
  assert.ok(leaseTrace.some((x) => x.name === 'gtb.policy.decide'), 'the broker\'s policy decision is in the lease\'s trace');

  // The first connection: a rollover with trigger start, its connect made of create, subscribe and socket.
  const first = named('gtb.streamer.rollover').find((r) => r.attributes['gtb.rollover.trigger'] === 'start');
  assert.ok(first, 'a start rollover span');
  const connect = childrenOf(first).find((c) => c.name === 'gtb.streamer.connect');
  assert.ok(connect, 'connect under the rollover');
  assert.deepEqual(childrenOf(connect).filter((c) => c.name.startsWith('gtb.')).map((c) => c.name).sort(), ['gtb.streamer.channel_create', 'gtb.streamer.socket_connect', 'gtb.streamer.subscribe']);
  assert.match(String(connect.attributes['gtb.channel.fingerprint']), /^[0-9a-f]{12}$/);
  assert.equal(childrenOf(connect).find((c) => c.name === 'gtb.streamer.subscribe')!.attributes['gtb.topics.accepted'], 1);

  // The rotation's rollover: connect, then the overlap, named by both channels' fingerprints.
  const rotated = named('gtb.streamer.rollover').find((r) => r.attributes['gtb.rollover.trigger'] === 'token_rotated')!;
  const kids = childrenOf(rotated).map((c) => c.name);
  assert.ok(kids.includes('gtb.streamer.connect') && kids.includes('gtb.streamer.overlap'), kids.join(','));
  assert.match(String(rotated.attributes['gtb.channel.previous_fingerprint']), /^[0-9a-f]{12}$/);
  assert.notEqual(rotated.attributes['gtb.channel.previous_fingerprint'], rotated.attributes['gtb.channel.fingerprint']);
  // Its lifecycle event carries its traceparent.
  const rolled = (await sys.lifecycle(['stream.rolled_over'])).find((e) => (e.data as { trigger: string }).trigger === 'token_rotated');
  assert.equal(rolled?.traceparent?.split('-')[1], rotated.spanContext().traceId);

  // Batch writes: spans with their Redis pipeline below them.
  const batches = named('gtb.streamer.batch_write');
  assert.ok(batches.length > 0);
  assert.equal(batches.reduce((n, b) => n + Number(b.attributes['gtb.batch.written']), 0) >= 50, true);
  assert.ok(batches.some((b) => childrenOf(b).some((c) => c.instrumentationScope.name.includes('ioredis'))), 'Redis commands under a batch');

  // The gap: from its start to its end on the timeline, with its cause.
  const gap = named('gtb.streamer.gap')[0]!;
  assert.ok(Number(gap.attributes['gtb.gap.ms']) >= 0);
  assert.equal(gap.attributes['gtb.stream'], 'queues');

  // No channel id (nor the connect URI built from it) and no token in any span of the run.
  assert.ok(channels.size >= 3, `channels seen: ${channels.size}`);
  const needles = [...channels];
  for (const span of spans()) {
    const text = JSON.stringify({ name: span.name, attributes: span.attributes, events: span.events, status: span.status });
    for (const id of needles) assert.ok(!text.includes(id), `span ${span.name} names a channel id`);
    assert.ok(!/eyJ[A-Za-z0-9_-]{8,}\./.test(text), `span ${span.name} holds a JWT`);
  }
});
