import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../../test/support/wait.js';
import { checkSequences, startStreamSystem, TEST_TIMING, TOPIC } from './support/stream-system.js';

test('forced rollovers under load (socket_closing, rotation, revocation, channel expiry): every event exactly once', { timeout: 60_000 }, async (t) => {
  // Channels live 4 s, so expiry-driven rollovers happen on their own every ~2.5 s besides the forced ones.
  const sys = await startStreamSystem({ sandbox: { channelLifetimeMs: 4_000 }, leaseGraceSeconds: 2 });
  t.after(() => sys.close());
  const s = await sys.startStreamer();
  await waitFor('ready', () => s.streamer.health().ready, { timeoutMs: 15_000 });
  const rate = Number(process.env.STREAMER_TEST_RATE ?? 200);
  const seconds = Number(process.env.STREAMER_TEST_SECONDS ?? 15);
  const count = rate * seconds;
  const generating = sys.sandbox.admin.generateEvents({ topic: TOPIC, count, ratePerSecond: rate });
  const triggers = ['socket_closing', 'rotate', 'revoke'] as const;
  const deadline = Date.now() + seconds * 1000 - 1_500;
  for (let i = 0; Date.now() < deadline; i++) {
    await sleep(1_200);
    const trigger = triggers[i % triggers.length]!;
    const channelId = sys.channelIdOf(s.streamer.health().streams[0]?.channelFingerprint);
    if (trigger === 'socket_closing' && channelId) {
      try { sys.sandbox.admin.closeSocket(channelId, { notice: true }); } catch { /* rolled over meanwhile */ }
    } else if (trigger === 'rotate') {
      await sys.rotate();
    } else if (trigger === 'revoke') {
      await sys.revokeViaBroker();
    }
  }
  const result = await generating;
  assert.equal(result.sent, count);
  await waitFor('all events written', async () => (await sys.output()).length >= count, { timeoutMs: 20_000 });
  await sleep(300);
  const out = await sys.output();
  assert.deepEqual(checkSequences(out.map((e) => e.sequence), count), { missing: [], duplicated: [] });
  assert.equal(out.length, count);
  const rolled = (await sys.lifecycle(['stream.rolled_over'])).map((e) => (e.data as { trigger: string }).trigger);
  for (const trigger of ['socket_closing', 'token_rotated', 'channel_expiring']) assert.ok(rolled.includes(trigger), `no ${trigger} rollover in ${rolled.join(',')}`);
  assert.deepEqual(s.gaps, []);
  const metrics = await s.streamer.metrics.registry.metrics();
  assert.match(metrics, /gtb_streamer_events_deduplicated_total\{stream="queues"\} [1-9]/);
});

test('sandbox closing sockets on token expiry (short tokens): rollover before expiry, no loss', { timeout: 60_000 }, async (t) => {
  // 8 s tokens stand in for the 60 s ones; the broker refuses tokens with < 4 s left.
  const sys = await startStreamSystem({ tokenLifetimeSeconds: 8, minTtlSeconds: 4, sandbox: { closeSocketOnTokenExpiry: true } });
  t.after(() => sys.close());
  const s = await sys.startStreamer({ timing: { ...TEST_TIMING, tokenExpiryMarginMs: 3_000, leaseTtlSeconds: 4 } });
  await waitFor('ready', () => s.streamer.health().ready, { timeoutMs: 15_000 });
  const count = 200 * 14;
  const result = await sys.sandbox.admin.generateEvents({ topic: TOPIC, count, ratePerSecond: 200 });
  assert.equal(result.sent, count);
  await waitFor('all events written', async () => (await sys.output()).length >= count, { timeoutMs: 20_000 });
  const out = await sys.output();
  assert.deepEqual(checkSequences(out.map((e) => e.sequence), count), { missing: [], duplicated: [] });
  const rolled = await sys.lifecycle(['stream.rolled_over']);
  assert.ok(rolled.length >= 1, 'no rollover happened');
  assert.deepEqual(s.gaps, []);
});

test('a socket_closing notice on the new socket during a rollover\'s overlap still rolls it over', { timeout: 60_000 }, async (t) => {
  // Regression: the notice reached the just-promoted socket while the rollover that promoted it was
  // still in its overlap; it was swallowed, the socket then closed, and its events were lost.
  const sys = await startStreamSystem({ sandbox: { socketClosingNoticeMs: 1_500 } });
  t.after(() => sys.close());
  const s = await sys.startStreamer({ timing: { ...TEST_TIMING, overlapMs: 1_000 } });
  await waitFor('ready', () => s.streamer.health().ready, { timeoutMs: 15_000 });
  const first = s.streamer.health().streams[0]!.channelFingerprint;
  const count = 200 * 8;
  const generating = sys.sandbox.admin.generateEvents({ topic: TOPIC, count, ratePerSecond: 200 });
  await sleep(1_000);
  void sys.rotate();
  const second = await waitFor('the rotation to promote a new socket', () => {
    const fp = s.streamer.health().streams[0]?.channelFingerprint;
    return fp && fp !== first ? fp : undefined;
  }, { timeoutMs: 10_000 });
  sys.sandbox.admin.closeSocket(sys.channelIdOf(second)!, { notice: true }); // inside the 1 s overlap
  assert.equal((await generating).sent, count);
  await waitFor('all events written', async () => (await sys.output()).length >= count, { timeoutMs: 20_000 });
  const out = await sys.output();
  assert.deepEqual(checkSequences(out.map((e) => e.sequence), count), { missing: [], duplicated: [] });
  const rolled = (await sys.lifecycle(['stream.rolled_over'])).map((e) => e.data as { trigger: string; fromChannelFingerprint: string });
  assert.ok(rolled.some((r) => r.trigger === 'socket_closing' && r.fromChannelFingerprint === second), `no socket_closing rollover from the new socket: ${JSON.stringify(rolled)}`);
  assert.deepEqual(s.gaps, []);
});
