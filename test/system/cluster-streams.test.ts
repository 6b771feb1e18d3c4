import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createKeys } from '@gtb/redis';
import { startRedisCluster } from '../support/redis-topology.js';
import { accountSequences, startStreamingStack, type StreamSpec } from '../support/streamer-topology.js';
import { waitFor } from '../support/wait.js';

const PROFILES = ['sales', 'support', 'billing', 'claims', 'outbound', 'quality'];
// Twelve streams, two per profile, each with two topics of its own.
const STREAMS: StreamSpec[] = Array.from({ length: 12 }, (_, i) => ({
  name: `stream-${i + 1}`,
  profile: PROFILES[i % PROFILES.length]!,
  topics: [`v2.routing.queues.q${i + 1}.conversations`, `v2.users.u${i + 1}.presence`],
}));
const PER_TOPIC = 60;

test('streamers on a three-master Redis Cluster: six profiles and twelve streams, one hash tag each, spread over the slots, every event once', { timeout: 90_000 }, async (t) => {
  // t.after hooks run in the order they were added: a last-in-first-out stack stops Redis last.
  const cleanups: (() => Promise<unknown>)[] = [];
  t.after(async () => { for (const c of cleanups.reverse()) await c().catch(() => undefined); });
  const cluster = await startRedisCluster();
  cleanups.push(() => cluster.close());
  const stack = await startStreamingStack({ redis: cluster.config, profiles: PROFILES, streams: STREAMS, brokers: 2 });
  cleanups.push(() => stack.close());
  // Two replicas, active-passive: the owner lock, its fence and the fenced write script all run in the cluster.
  const replicas = [
    await stack.startStreamer({ ha: 'active-passive', brokerUrl: stack.brokers[0]!.url }),
    await stack.startStreamer({ ha: 'active-passive', brokerUrl: stack.brokers[1]!.url }),
  ];
  await waitFor('every stream receiving in one replica', async () => STREAMS.every((s) =>
    replicas.filter((r) => r.streamer.health().streams.find((x) => x.stream === s.name && x.owner && x.receiving)).length === 1), { timeoutMs: 45_000, intervalMs: 100 });
  const owners = replicas.map((r) => r.streamer.health().streams.filter((s) => s.owner).length);
  t.diagnostic(`streams owned per replica: ${owners.join(', ')}`);

  // Events on every topic at once; each stream must get exactly its own, once each.
  await Promise.all(STREAMS.flatMap((s) => s.topics.map((topic) => stack.sandbox.admin.generateEvents({ topic, count: PER_TOPIC, ratePerSecond: 100 }))));
  await waitFor('every event in its stream', async () => {
    for (const s of STREAMS) if ((await stack.output(s.name)).length < s.topics.length * PER_TOPIC) return false;
    return true;
  }, { timeoutMs: 30_000, intervalMs: 200 });
  // A moment for any double to land before counting (the dedupe should have dropped them all).
  await waitFor('the sinks drained', async () => replicas.every((r) => r.streamer.health().streams.every((s) => s.buffered === 0)), { timeoutMs: 10_000, intervalMs: 50 });
  for (const s of STREAMS) {
    const out = await stack.output(s.name);
    assert.deepEqual([...new Set(out.map((e) => e.topic))].sort(), [...s.topics].sort(), `${s.name}: only its own topics`);
    for (const topic of s.topics) {
      const account = accountSequences(out.filter((e) => e.topic === topic).map((e) => e.sequence), PER_TOPIC, []);
      assert.deepEqual(account, { duplicated: [], unreported: [], missing: [] }, `${s.name} ${topic}: every event exactly once`);
    }
  }
  for (const r of replicas) assert.deepEqual(r.gaps, [], 'no gap reported');
  for (const p of PROFILES) assert.equal(stack.mints(p), 1, `${p}: one upstream mint`);

  // Every key of a stream, found on the masters or named by createKeys, shares the stream's slot.
  const nodes = cluster.masters.map((m) => {
    const r = new Redis({ host: '127.0.0.1', port: m.port, maxRetriesPerRequest: 1 });
    r.on('error', () => undefined);
    cleanups.push(async () => r.disconnect());
    return r;
  });
  const slotOf = async (key: string) => Number(await nodes[0]!.call('CLUSTER', 'KEYSLOT', key));
  const keys = createKeys(stack.prefix);
  const found = await Promise.all(nodes.map((n) => n.keys(`${stack.prefix}:*`)));
  const streamSlots = new Map<string, number>();
  const streamNodes = new Set<number>();
  for (const s of STREAMS) {
    const tag = `{${s.name}}`;
    const onNodes = found.map((ks, i) => ({ i, ks: ks.filter((k) => k.includes(tag)) })).filter((x) => x.ks.length > 0);
    assert.equal(onNodes.length, 1, `${s.name}: all its keys live on one node`);
    const stored = onNodes[0]!.ks;
    streamNodes.add(onNodes[0]!.i);
    const kinds = { events: keys.events(s.name), owner: keys.owner(s.name), ownerFence: keys.ownerFence(s.name) };
    for (const [kind, key] of Object.entries(kinds)) assert.ok(stored.includes(key), `${s.name}: its ${kind} key is in the cluster`);
    const dedupe = stored.filter((k) => k.startsWith(`${stack.prefix}:dedupe:${tag}:`));
    assert.equal(dedupe.length, s.topics.length * PER_TOPIC, `${s.name}: one dedupe marker per event`);
    const slots = new Set(await Promise.all([...Object.values(kinds), keys.dedupe(s.name, 'x'), ...stored].map(slotOf)));
    assert.equal(slots.size, 1, `${s.name}: events, dedupe, owner and owner-fence share one slot (${[...slots].join(', ')})`);
    streamSlots.set(s.name, [...slots][0]!);
  }
  for (const p of PROFILES) {
    const named = [keys.token(p), keys.lock(p), keys.fence(p), keys.cooldown(p), keys.leases(p), keys.lease(p, 'x'),
      ...found.flat().filter((k) => k.includes(`{${p}}`))];
    assert.ok(named.length > 6, `${p}: its token and leases are in the cluster`);
    assert.equal(new Set(await Promise.all(named.map(slotOf))).size, 1, `${p}: every key shares one slot`);
  }
  assert.equal(new Set(streamSlots.values()).size, STREAMS.length, 'twelve streams, twelve slots');
  assert.ok(streamNodes.size >= 2, `streams spread over ${streamNodes.size} of ${nodes.length} masters`);
  t.diagnostic(`stream slots ${JSON.stringify(Object.fromEntries(streamSlots))}; ${streamNodes.size} masters hold streams`);
});
