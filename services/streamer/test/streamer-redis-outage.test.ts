import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRedis, waitReady } from '@gtb/redis';
import { waitFor } from '../../../test/support/wait.js';
import { checkSequences, startStreamSystem, TEST_TIMING, TOPIC } from './support/stream-system.js';
import { startDurableRedis } from './support/durable-redis.js';

const OUTAGE_MS = 10_000;

async function outageRun(t: TestContext, maxBufferedEvents: number) {
  const sys = await startStreamSystem();
  t.after(() => sys.close());
  const redis = await startDurableRedis();
  t.after(() => redis.close());
  const reader = createRedis({ mode: 'standalone', url: redis.url });
  reader.on('error', () => undefined);
  await waitReady(reader);
  t.after(() => reader.disconnect());
  const s = await sys.startStreamer({
    timing: TEST_TIMING,
    output: { dedupeWindowMs: 120_000, maxBufferedEvents, batchSize: 500, writeTimeoutMs: 1_000 },
  }, redis.url);
  await waitFor('ready', () => s.streamer.health().ready, { timeoutMs: 15_000 });
  const during = 200 * 12;
  const generating = sys.sandbox.admin.generateEvents({ topic: TOPIC, count: during, ratePerSecond: 200 });
  await sleep(1_500);
  await redis.stop();
  await sleep(OUTAGE_MS);
  await redis.start();
  await generating;
  // Once the streamer writes again (its reconnect backs off up to 2 s), a tail that must all arrive.
  await waitFor('writes recovered', () => !s.streamer.health().streams[0]!.redisDegraded && s.streamer.health().streams[0]!.buffered === 0, { timeoutMs: 20_000 });
  const tail = 200;
  await sys.sandbox.admin.generateEvents({ topic: TOPIC, count: tail, ratePerSecond: 400 });
  return { sys, s, reader, count: during + tail };
}

test('Redis stopped for 10 s under load: events are buffered and all delivered once it is back', { timeout: 60_000 }, async (t) => {
  const { sys, s, reader, count } = await outageRun(t, 100_000);
  await waitFor('all written', async () => (await sys.output(undefined, reader)).length >= count, { timeoutMs: 20_000 });
  const out = await sys.output(undefined, reader);
  assert.deepEqual(checkSequences(out.map((e) => e.sequence), count), { missing: [], duplicated: [] });
  assert.deepEqual(s.gaps, []);
  assert.ok(s.lines.some((l) => l.includes('redis write failed; buffering')), 'the outage was logged');
});

test('Redis stopped for 10 s with a small buffer: the overflow is reported as a gap with its bounds, never silent', { timeout: 60_000 }, async (t) => {
  const { sys, s, reader, count } = await outageRun(t, 400);
  await waitFor('tail written', async () => (await sys.output(undefined, reader)).some((e) => e.sequence === count), { timeoutMs: 20_000 });
  await waitFor('gap reported', () => s.gaps.length > 0, { timeoutMs: 15_000 });
  const out = await sys.output(undefined, reader);
  const { missing, duplicated } = checkSequences(out.map((e) => e.sequence), count);
  assert.deepEqual(duplicated, []);
  assert.ok(missing.length > 0);
  const gap = s.gaps.find((g) => g.cause === 'buffer_full')!.gap;
  assert.ok(gap.lastSequence !== undefined);
  // The dropped events are exactly the ones after the last buffered one, up to the first kept again.
  assert.equal(missing[0], gap.lastSequence + 1);
  const firstAfter = missing[missing.length - 1]! + 1;
  assert.ok(out.some((e) => e.sequence === firstAfter));
  assert.equal(missing.length, firstAfter - gap.lastSequence - 1, 'the missing events are one contiguous run');
  assert.match(gap.reason, new RegExp(`${missing.length} event`));
  // Published once Redis was back (the reporter retries): the lifecycle stream on that Redis holds it.
  await waitFor('stream.gap published', async () => {
    const entries = await reader.xrange(`${sys.prefix}:lifecycle`, '-', '+');
    return entries.some(([, f]) => f[1]!.includes('"stream.gap"'));
  }, { timeoutMs: 10_000 });
});
