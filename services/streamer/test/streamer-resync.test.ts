// Gaps heal (issue 14): after a gap closes, the output gets a stream.gap entry and stream.resync
// snapshots, so that a consumer that applies entries by topic has the right state again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../../test/support/wait.js';
import { CLIENTS } from '../../../test/support/system.js';
import { startStreamSystem, TEST_TIMING, type StreamSystem } from './support/stream-system.js';
import { consumerState, liveConversations, readRawOutput, sandboxSnapshot } from './support/output-entries.js';

const STREAM = 'people';
const TOPICS = [
  'v2.users.u1?presence&routingStatus', 'v2.users.u2.presence', 'v2.routing.queues.q1.conversations',
  'v2.analytics.queues.q2.observations', 'v2.users.u3.conversations',
];

async function appToken(sys: StreamSystem): Promise<string> {
  const idToken = await sys.idp.clientCredentialsToken(CLIENTS.app.client_id);
  const res = await fetch(`${sys.broker.url}/v1/tokens/sales`, { headers: { authorization: `Bearer ${idToken}` } });
  return (await res.json() as { access_token: string }).access_token;
}

async function generate(sys: StreamSystem, n: number): Promise<void> {
  const gen = (topic: string, count: number) => sys.sandbox.admin.generateEvents({ topic, count });
  await gen('v2.users.u1.presence', n);
  await gen('v2.users.u1.routingStatus', n);
  await gen('v2.users.u2.presence', n);
  await gen('v2.routing.queues.q1.conversations', 2 * n + 1);
  await gen('v2.analytics.queues.q2.observations', n);
  await gen('v2.users.u3.conversations', n);
}

test('a gap is healed: stream.gap entry listing the backfill topics, then snapshots that bring a consumer\'s state right', { timeout: 90_000 }, async (t) => {
  const sys = await startStreamSystem();
  t.after(() => sys.close());
  const s = await sys.startStreamer({
    timing: { ...TEST_TIMING, heartbeatTimeoutMs: 10_000, pongTimeoutMs: 5_000, pingIntervalMs: 300 },
    resync: { requestsPerMinute: 600 },
    streams: [{ name: STREAM, profile: 'sales', topics: TOPICS }],
  });
  await waitFor('ready', () => s.streamer.health().ready, { timeoutMs: 15_000 });
  await generate(sys, 3);
  await waitFor('first events written', async () => (await readRawOutput(sys.redis, sys.prefix, STREAM)).length >= 19, { timeoutMs: 10_000 });
  // Everything generated during the stall is lost; the snapshot calls are throttled twice (429, Retry-After 1).
  sys.sandbox.admin.injectFault({ type: 'stall' });
  await sleep(200);
  await generate(sys, 2);
  await sleep(1_000);
  sys.sandbox.admin.clearFaults();
  sys.sandbox.admin.injectFault({ type: 'api-throttle', retryAfterSeconds: 1, count: 2 });
  const gap = await waitFor('the gap closed', () => s.gaps[0]?.gap, { timeoutMs: 15_000 });
  const entries = await waitFor('the resync written', async () => {
    const all = await readRawOutput(sys.redis, sys.prefix, STREAM);
    return all.filter((e) => e.fields.kind === 'stream.resync' && e.fields.gap_id === gap.gapId).length >= 6 ? all : undefined;
  }, { timeoutMs: 20_000 });
  await sleep(500);
  const all = await readRawOutput(sys.redis, sys.prefix, STREAM);
  assert.ok(sys.sandbox.admin.counters().apiRequestsThrottled >= 2, 'the snapshot calls met the 429s and waited');

  // The gap entry: where the gap closed, with what needs a backfill (no snapshot lists a user's new conversations).
  const gapEntries = all.filter((e) => e.fields.kind === 'stream.gap');
  assert.equal(gapEntries.length, 1);
  assert.deepEqual(gapEntries[0]!.event.backfillTopics, ['v2.users.u3.conversations']);
  assert.equal(gapEntries[0]!.event.resync, 'follows');
  assert.equal(gapEntries[0]!.fields.gap_id, gap.gapId);
  const published = (await sys.lifecycle(['stream.gap']))[0]!.data as { backfill?: unknown; backfillTopicCount?: number };
  assert.deepEqual(published.backfill, [{ topic: 'v2.users.{id}.conversations', ids: ['u3'] }]);
  assert.equal(published.backfillTopicCount, 1);

  // The resync entries: marked as snapshots, one per topic (per conversation on conversation topics).
  const resync = entries.filter((e) => e.fields.kind === 'stream.resync');
  for (const e of resync) {
    assert.equal((e.event.metadata as { snapshot?: boolean }).snapshot, true);
    assert.equal((e.event.metadata as { type?: string }).type, 'stream.resync');
    assert.equal(e.event.topicName, e.fields.topic);
  }
  const topics = new Set(resync.map((e) => e.fields.topic));
  for (const topic of ['v2.users.u1.presence', 'v2.users.u1.routingStatus', 'v2.users.u2.presence', 'v2.analytics.queues.q2.observations', 'v2.routing.queues.q1.conversations']) {
    assert.ok(topics.has(topic), `a snapshot of ${topic}`);
  }

  // A consumer that applies entries by topic now has the sandbox's state, though the stall lost the last events.
  const consumer = consumerState(all);
  const truth = await sandboxSnapshot(sys.sandbox.url, await appToken(sys), { presence: ['u1', 'u2'], routing: ['u1'], queues: ['q1', 'q2'] });
  for (const id of ['u1', 'u2']) {
    const body = consumer.get(`v2.users.${id}.presence`) as { presenceDefinition: { systemPresence: string }; modifiedDate: string };
    assert.deepEqual({ systemPresence: body.presenceDefinition.systemPresence, modifiedDate: body.modifiedDate }, truth.presence.get(id));
  }
  const routing = consumer.get('v2.users.u1.routingStatus') as { routingStatus: { status: string; startTime: string } };
  assert.deepEqual(routing.routingStatus, truth.routing.get('u1'));
  const obs = consumer.get('v2.analytics.queues.q2.observations') as { data: { metrics: { metric: string; stats: { count: number } }[] }[] };
  assert.deepEqual(Object.fromEntries(obs.data[0]!.metrics.map((m) => [m.metric, m.stats.count])), truth.queues.get('q2')!.counts);
  assert.deepEqual(liveConversations(consumer, 'v2.routing.queues.q1.conversations'), truth.queues.get('q1')!.inProgress);
  // Without the resync entries the consumer would be wrong: the stall swallowed changes.
  const withoutResync = consumerState(all.filter((e) => e.fields.kind !== 'stream.resync'));
  const stale = (withoutResync.get('v2.users.u1.presence') as { modifiedDate: string }).modifiedDate !== truth.presence.get('u1')!.modifiedDate;
  assert.ok(stale, 'the stall lost the last presence change, which only the resync restored');
  assert.match(await s.streamer.metrics.registry.metrics(), /gtb_streamer_resync_entries_total\{stream="people"\} [1-9]/);
});

test('a stream of 1,500 topics runs on two channels; a drop on one shard is a gap of that shard only, resynced from its topics', { timeout: 90_000 }, async (t) => {
  const sys = await startStreamSystem();
  t.after(() => sys.close());
  const topics = Array.from({ length: 1_500 }, (_, i) => `v2.users.u${i}.presence`);
  const s = await sys.startStreamer({ resync: { requestsPerMinute: 600 }, streams: [{ name: STREAM, profile: 'sales', topics }] });
  await waitFor('ready', () => s.streamer.health().ready, { timeoutMs: 20_000 });
  const channels = sys.sandbox.admin.listChannels({ clientId: sys.clientId }).filter((c) => c.socket);
  assert.deepEqual(channels.map((c) => c.topics.length).sort((a, b) => a - b), [500, 1_000]);
  const status = s.streamer.health().streams[0] as unknown as { shards: { receiving: boolean }[] };
  assert.equal(status.shards.length, 2);
  await sys.sandbox.admin.generateEvents({ topic: 'v2.users.u5.presence', count: 1 });
  await sys.sandbox.admin.generateEvents({ topic: 'v2.users.u1200.presence', count: 1 });
  await sleep(1_500); // both shards record some reception
  const second = channels.find((c) => c.topics.includes('v2.users.u1200.presence'))!;
  assert.equal(sys.sandbox.admin.injectFault({ type: 'drop', channelId: second.id }).dropped, 1);
  const gap = await waitFor('the shard\'s gap', () => s.gaps[0]?.gap, { timeoutMs: 15_000 });
  assert.equal(gap.shard, 1);
  await waitFor('resynced', async () => (await readRawOutput(sys.redis, sys.prefix, STREAM)).filter((e) => e.fields.kind === 'stream.resync').length >= 500, { timeoutMs: 30_000 });
  await sleep(1_000);
  const all = await readRawOutput(sys.redis, sys.prefix, STREAM);
  const resynced = all.filter((e) => e.fields.kind === 'stream.resync').map((e) => Number(/u(\d+)/.exec(e.fields.topic!)![1]));
  assert.equal(resynced.length, 500);
  assert.ok(resynced.every((i) => i >= 1_000), 'only the dropped shard\'s topics');
  assert.equal(s.gaps.length, 1, 'shard 0 received all along: no gap for it');
  const opened = (await sys.lifecycle(['stream.gap_opened'])).map((e) => e.data as { shard?: number });
  assert.deepEqual(opened.map((o) => o.shard), [1]);
  // Each shard keeps its own coverage and open gaps.
  assert.equal(await sys.redis.exists(`${sys.prefix}:coverage:{${STREAM}}:0`, `${sys.prefix}:coverage:{${STREAM}}:1`), 2);
});
