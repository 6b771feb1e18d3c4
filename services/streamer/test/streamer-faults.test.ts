import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../../test/support/wait.js';
import { checkSequences, startStreamSystem, TEST_TIMING, TOPIC } from './support/stream-system.js';

test('an abrupt drop is reported as a gap with exact bounds, then the stream recovers', { timeout: 40_000 }, async (t) => {
  const sys = await startStreamSystem();
  t.after(() => sys.close());
  const s = await sys.startStreamer();
  await waitFor('ready', () => s.streamer.health().ready, { timeoutMs: 15_000 });
  const generating = sys.sandbox.admin.generateEvents({ topic: TOPIC, count: 800, ratePerSecond: 200 });
  await sleep(1_500);
  const dropAt = Date.now();
  assert.ok((sys.sandbox.admin.injectFault({ type: 'drop' }).dropped ?? 0) >= 1);
  await generating;
  await waitFor('a gap', () => s.gaps.length > 0, { timeoutMs: 15_000 });
  await waitFor('recovered and caught up', async () => {
    const out = await sys.output();
    return out.some((e) => e.sequence === 800);
  }, { timeoutMs: 15_000 });
  assert.equal(s.gaps.length, 1);
  const { gap, cause } = s.gaps[0]!;
  assert.equal(cause, 'drop');
  const out = await sys.output();
  const { missing, duplicated } = checkSequences(out.map((e) => e.sequence), 800);
  assert.deepEqual(duplicated, []);
  // Exact: everything up to lastSequence arrived, everything after the first post-gap event arrived,
  // and what is missing lies strictly between them.
  assert.ok(gap.lastSequence !== undefined);
  const firstAfter = Math.min(...out.filter((e) => e.receivedAt >= gap.to).map((e) => e.sequence));
  assert.ok(missing.every((m) => m > gap.lastSequence! && m < firstAfter), `missing ${missing.join(',')} outside (${gap.lastSequence}, ${firstAfter})`);
  const last = out.find((e) => e.sequence === gap.lastSequence)!;
  // Conservative: the last frame before the drop, less the reorder allowance (2 s by default).
  assert.ok(last.receivedAt - 2_000 <= gap.from && gap.from <= dropAt - 2_000 + 50, 'from bound');
  assert.ok(gap.to >= dropAt, 'to bound');
  const published = await waitFor('stream.gap event', async () => (await sys.lifecycle(['stream.gap']))[0], { timeoutMs: 15_000 });
  assert.equal(published.type, 'stream.gap');
  assert.equal(Date.parse((published.data as { from: string }).from), gap.from);
  assert.equal(Date.parse((published.data as { to: string }).to), gap.to);
  const dropped = await sys.lifecycle(['stream.dropped']);
  assert.ok(dropped.some((e) => (e.data as { planned: boolean }).planned === false));
});

test('a stalled (half-open) socket is detected and replaced within two heartbeat intervals', { timeout: 40_000 }, async (t) => {
  const sys = await startStreamSystem();
  t.after(() => sys.close());
  // The sandbox heartbeats every 500 ms: ping after 550 ms of silence, give up 150 ms later.
  const s = await sys.startStreamer({ timing: { ...TEST_TIMING, heartbeatTimeoutMs: 550, pongTimeoutMs: 150, backoffBaseMs: 20 } });
  await waitFor('ready', () => s.streamer.health().ready, { timeoutMs: 15_000 });
  const generating = sys.sandbox.admin.generateEvents({ topic: TOPIC, count: 600, ratePerSecond: 200 });
  await sleep(1_000);
  const stalled = s.streamer.health().streams[0]!.channelFingerprint!;
  const stallAt = Date.now();
  sys.sandbox.admin.injectFault({ type: 'stall', channelId: sys.channelIdOf(stalled)! });
  const replacedAt = await waitFor('a new receiving socket', () => {
    const st = s.streamer.health().streams[0]!;
    return st.channelFingerprint !== stalled && st.receiving ? Date.now() : 0;
  }, { timeoutMs: 10_000, intervalMs: 5 });
  assert.ok(replacedAt - stallAt <= 1_000, `replaced after ${replacedAt - stallAt} ms`);
  await generating;
  sys.sandbox.admin.clearFaults();
  assert.equal(s.gaps.length, 1);
  assert.match(s.gaps[0]!.gap.reason, /no heartbeat or pong/);
  await waitFor('tail written', async () => (await sys.output()).some((e) => e.sequence === 600), { timeoutMs: 15_000 });
  const { duplicated } = checkSequences((await sys.output()).map((e) => e.sequence), 600);
  assert.deepEqual(duplicated, []);
});

test('duplicated and reordered events are each written exactly once', { timeout: 40_000 }, async (t) => {
  const sys = await startStreamSystem();
  t.after(() => sys.close());
  const s = await sys.startStreamer();
  await waitFor('ready', () => s.streamer.health().ready, { timeoutMs: 15_000 });
  sys.sandbox.admin.injectFault({ type: 'duplicate', every: 3 });
  sys.sandbox.admin.injectFault({ type: 'reorder', window: 5 });
  await sys.sandbox.admin.generateEvents({ topic: TOPIC, count: 600, ratePerSecond: 1_000 });
  await waitFor('all written', async () => (await sys.output()).length >= 600, { timeoutMs: 15_000 });
  await sleep(500);
  const out = await sys.output();
  assert.equal(out.length, 600);
  assert.deepEqual(checkSequences(out.map((e) => e.sequence), 600), { missing: [], duplicated: [] });
  assert.ok(sys.sandbox.admin.counters().eventsDuplicated > 0);
  assert.match(await s.streamer.metrics.registry.metrics(), /gtb_streamer_events_deduplicated_total\{stream="queues"\} [1-9]/);
});
