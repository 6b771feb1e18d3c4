import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../../test/support/wait.js';
import { checkSequences, startStreamSystem, TOPIC } from './support/stream-system.js';
import { spawnStreamer, type StreamerProcess } from './support/streamer-process.js';

test('active-active: one of two replicas SIGKILLed under load loses nothing and doubles nothing', { timeout: 60_000 }, async (t) => {
  // t.after hooks run in the order they were added: the replicas are killed before the system
  // closes (else a replica still running reports the sandbox's closing socket into a cleaned prefix).
  const replicas: StreamerProcess[] = [];
  t.after(async () => { for (const r of replicas) await r.kill(); });
  const sys = await startStreamSystem();
  t.after(() => sys.close());
  for (let i = 0; i < 2; i++) replicas.push(await spawnStreamer(sys.streamerConfig({ ha: 'active-active', instanceId: `aa-${i}` })));
  for (const r of replicas) await waitFor('replica ready', async () => (await r.readyz()).status === 200, { timeoutMs: 20_000 });
  await waitFor('two sockets', () => sys.sandbox.admin.connectedChannels().length === 2, { timeoutMs: 15_000 });
  const count = 200 * 8;
  const generating = sys.sandbox.admin.generateEvents({ topic: TOPIC, count, ratePerSecond: 200 });
  await sleep(3_000);
  await replicas[0]!.kill();
  const result = await generating;
  assert.equal(result.sent, count);
  await waitFor('all written', async () => (await sys.output()).length >= count, { timeoutMs: 20_000 });
  await sleep(300);
  const out = await sys.output();
  assert.deepEqual(checkSequences(out.map((e) => e.sequence), count), { missing: [], duplicated: [] });
  assert.equal(out.length, count);
  const writers = new Set(out.map((e) => e.instance));
  assert.ok(writers.has('aa-1'));
});

test('active-passive: the standby takes over within 5 s of the owner\'s SIGKILL and reports the gap exactly', { timeout: 60_000 }, async (t) => {
  // t.after hooks run in the order they were added: the replicas are killed before the system
  // closes (else a replica still running reports the sandbox's closing socket into a cleaned prefix).
  const replicas: StreamerProcess[] = [];
  t.after(async () => { for (const r of replicas) await r.kill(); });
  const sys = await startStreamSystem();
  t.after(() => sys.close());
  for (let i = 0; i < 2; i++) replicas.push(await spawnStreamer(sys.streamerConfig({ ha: 'active-passive', instanceId: `ap-${i}`, ownerLockTtlMs: 1_500 })));
  const owner = await waitFor('an owner', async () => {
    for (const r of replicas) if ((await r.readyz()).body.streams[0]?.owner && (await r.readyz()).body.streams[0]?.receiving) return r;
    return undefined;
  }, { timeoutMs: 20_000 });
  const standby = replicas.find((r) => r !== owner)!;
  assert.equal(sys.sandbox.admin.connectedChannels().length, 1, 'only the owner holds a socket');
  const count = 200 * 8;
  const generating = sys.sandbox.admin.generateEvents({ topic: TOPIC, count, ratePerSecond: 200 });
  await sleep(2_500);
  const killedAt = Date.now();
  await owner.kill();
  const tookOver = await waitFor('standby receiving', async () => {
    const s = (await standby.readyz()).body.streams[0];
    return s?.owner && s.receiving ? Date.now() : 0;
  }, { timeoutMs: 10_000 });
  assert.ok(tookOver - killedAt < 5_000, `takeover took ${tookOver - killedAt} ms`);
  await generating;
  await waitFor('tail written', async () => (await sys.output()).some((e) => e.sequence === count), { timeoutMs: 20_000 });
  const out = await sys.output();
  const { missing, duplicated } = checkSequences(out.map((e) => e.sequence), count);
  assert.deepEqual(duplicated, []);
  const failover = await waitFor('stream.failover', async () => (await sys.lifecycle(['stream.failover']))[0], { timeoutMs: 15_000 });
  assert.equal((failover.data as { toInstance: string }).toInstance, standby === replicas[0] ? 'ap-0' : 'ap-1');
  const gap = await waitFor('stream.gap', async () => (await sys.lifecycle(['stream.gap']))[0], { timeoutMs: 15_000 });
  const data = gap.data as { from: string; to: string; lastSequence?: number };
  assert.ok(data.lastSequence !== undefined);
  const firstByStandby = Math.min(...out.filter((e) => e.instance === (standby === replicas[0] ? 'ap-0' : 'ap-1')).map((e) => e.sequence));
  // Exact: all missing events lie between the last one written before and the first one after.
  assert.ok(missing.every((m) => m > data.lastSequence! && m < firstByStandby), `missing ${missing.join(',')} outside (${data.lastSequence}, ${firstByStandby})`);
  assert.ok(out.filter((e) => e.sequence <= data.lastSequence!).length === data.lastSequence, 'everything up to lastSequence was written');
});
