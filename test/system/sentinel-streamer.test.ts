import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startSentinelTopology } from '../support/redis-topology.js';
import { accountSequences, decodeOutput, startStreamingStack } from '../support/streamer-topology.js';
import { waitFor } from '../support/wait.js';

const TOPIC = 'v2.routing.queues.q1.conversations';
const STREAM = 'queues';
const RATE = 100;
const COUNT = 1_200; // 12 s at RATE: the master dies about 3 s in

test('the streamer on Redis Sentinel: the master is SIGKILLed under load; every event is written once or reported in a gap, no mint storm', { timeout: 90_000 }, async (t) => {
  // t.after hooks run in the order they were added: a last-in-first-out stack stops Redis last.
  const cleanups: (() => Promise<unknown>)[] = [];
  t.after(async () => { for (const c of cleanups.reverse()) await c().catch(() => undefined); });
  const topology = await startSentinelTopology();
  cleanups.push(() => topology.close());
  const stack = await startStreamingStack({ redis: topology.config, profiles: ['sales'], streams: [{ name: STREAM, profile: 'sales', topics: [TOPIC] }] });
  cleanups.push(() => stack.close());
  const s = await stack.startStreamer();
  await waitFor('the streamer to receive', async () => s.streamer.health().ready, { timeoutMs: 20_000, intervalMs: 100 });
  assert.equal(stack.mints('sales'), 1);

  const generating = stack.sandbox.admin.generateEvents({ topic: TOPIC, count: COUNT, ratePerSecond: RATE });
  await waitFor('events flowing into the output', async () => (await stack.output(STREAM)).length >= 250, { timeoutMs: 20_000, intervalMs: 100 });
  const oldMasterPort = await topology.masterPort();
  assert.equal(oldMasterPort, topology.master.port);
  const node = (port: number) => {
    const r = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    cleanups.push(async () => r.disconnect());
    return r;
  };
  const master = node(oldMasterPort);
  const replica = node(topology.replica.port);
  const key = `${stack.prefix}:events:{${STREAM}}`;

  // The worst crash asynchronous replication allows: the master has acknowledged writes that the
  // replica never got. Cut the replication link (the replica's re-sync then fails on AUTH, so it
  // stays behind) while the streamer keeps writing to the master.
  await replica.config('SET', 'masterauth', 'partitioned');
  await master.call('CLIENT', 'KILL', 'TYPE', 'replica');
  await waitFor('writes acknowledged by the master only', async () => (await master.xlen(key)) - (await replica.xlen(key)) >= 20, { timeoutMs: 10_000, intervalMs: 20 });
  // Freeze the master's writes (the streamer's next batch waits, then times out) so that what it
  // acknowledged is known exactly: the entries it holds that the replica does not.
  await master.call('CLIENT', 'PAUSE', '20000', 'WRITE');
  const onReplica = new Set(decodeOutput(await replica.xrange(key, '-', '+')).map((e) => e.id));
  const lost = decodeOutput(await master.xrange(key, '-', '+')).filter((e) => !onReplica.has(e.id));
  assert.ok(lost.length >= 20, `the master holds ${lost.length} unreplicated entries`);
  // A crash: no goodbye; the unreplicated entries (and their dedupe markers) die with the master.
  await topology.master.kill('SIGKILL');
  await replica.config('SET', 'masterauth', '');
  const killedAt = Date.now();
  const newMasterPort = await topology.waitForFailover(oldMasterPort, 30_000);
  assert.equal(newMasterPort, topology.replica.port, 'the replica was promoted');
  t.diagnostic(`failed over to ${newMasterPort} ${Date.now() - killedAt} ms after the kill`);
  const generated = await generating;
  assert.equal(generated.sent, COUNT);

  // The streamer finds the new master through the sentinels, writes out its buffer, and keeps going.
  await waitFor('the streamer to write through the new master', async () => {
    const st = s.streamer.health().streams[0]!;
    return !st.redisDegraded && st.buffered === 0 && (await stack.output(STREAM)).some((e) => e.sequence === COUNT);
  }, { timeoutMs: 30_000, intervalMs: 200 });
  const out = await stack.output(STREAM);
  const gaps = s.gaps.map((g) => g.gap);
  const account = accountSequences(out.map((e) => e.sequence), COUNT, gaps);
  assert.deepEqual(account.duplicated, [], 'no event is written twice');
  assert.deepEqual(account.unreported, [], `every missing event is inside a reported gap (missing ${account.missing.length}, gaps ${JSON.stringify(gaps)})`);
  // Redis lost what the replica had not received. The event sink re-sends its recently acknowledged
  // events once writes work again; the dedupe markers (written atomically with the entries, and
  // lost with them) let exactly the lost ones back in and drop the rest as duplicates.
  const restored = s.lines.filter((l) => l.includes('re-sent recently acknowledged events'))
    .reduce((n, l) => n + ((JSON.parse(l) as { restored?: number }).restored ?? 0), 0);
  t.diagnostic(`out ${out.length}/${COUNT}, gaps ${gaps.length}, missing ${account.missing.length}; Redis lost ${lost.length} acknowledged entries at the failover and the sink restored ${restored}`);
  assert.equal(restored, lost.length, 'the sink restored exactly the entries the failover lost');
  const outIds = new Set(out.map((e) => e.id));
  assert.deepEqual(lost.filter((e) => !outIds.has(e.id)).map((e) => e.sequence), [], 'every lost entry is back in the output');
  assert.deepEqual(account.missing, [], 'nothing is missing: a Redis failover is no Genesys socket drop');
  assert.deepEqual(gaps, []);

  // Every gap the streamer reported (none expected here) is in the lifecycle stream on the new master.
  if (gaps.length) {
    await waitFor('stream.gap events published', async () => (await stack.lifecycle(['stream.gap'])).length >= gaps.length, { timeoutMs: 15_000, intervalMs: 200 });
  }
  assert.ok(stack.mints('sales') <= 2, `no mint storm: the sandbox minted ${stack.mints('sales')} tokens`);
  // Writes keep working after the failover: a fresh burst arrives whole.
  await stack.sandbox.admin.generateEvents({ topic: TOPIC, count: 100, ratePerSecond: 400 });
  await waitFor('the fresh burst', async () => (await stack.output(STREAM)).some((e) => e.sequence === COUNT + 100), { timeoutMs: 15_000, intervalMs: 100 });
  const final = accountSequences((await stack.output(STREAM)).map((e) => e.sequence), COUNT + 100, []);
  assert.deepEqual(final, { duplicated: [], unreported: [], missing: [] });
  assert.ok(stack.mints('sales') <= 2, `no mint storm: the sandbox minted ${stack.mints('sales')} tokens`);
});
