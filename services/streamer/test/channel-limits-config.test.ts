// Genesys' channel caps checked at config load: 20 channels per OAuth client, 1,000 topics per channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@gtb/config';
import { shardCount, streamerConfigSchema } from '../src/config.js';
import { backfillPatterns, planResync } from '../src/resync/topic-families.js';

const base = {
  redis: { mode: 'standalone', url: 'redis://127.0.0.1:6379' },
  brokerUrl: 'http://127.0.0.1:8080',
  identity: { issuer: 'http://127.0.0.1:9000', clientId: 'streamer', clientSecret: 's' },
};
const topics = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `v2.users.u${from + i}.presence`);

test('a stream of more than 1,000 topics is accepted and sharded, one channel per 1,000', () => {
  const cfg = streamerConfigSchema.parse({ ...base, streams: [{ name: 'users', profile: 'sales', topics: topics(4_500) }] });
  assert.equal(shardCount(cfg.streams[0]!.topics.length, cfg.limits.topicsPerChannel), 5);
  assert.equal(shardCount(1_000, 1_000), 1);
  assert.equal(shardCount(1_001, 1_000), 2);
});

test('a configuration that cannot fit the 20 channels of an OAuth client is refused, naming the setting', () => {
  // 5,001 topics: 6 shards × 2 (rollover overlap) × 2 active-active replicas = 24 > 20.
  const bad = streamerConfigSchema.safeParse({ ...base, streams: [{ name: 'users', profile: 'sales', topics: topics(5_001) }] });
  assert.equal(bad.success, false);
  const issue = bad.error!.issues[0]!;
  assert.deepEqual(issue.path, ['limits', 'channelsPerClient']);
  assert.match(issue.message, /profile sales needs 24 channels/);
  assert.match(issue.message, /limits\.channelsPerClient \(20\)/);
  // The same topics fit in active-passive (one owner at a time): 6 × 2 = 12.
  assert.equal(streamerConfigSchema.safeParse({ ...base, ha: 'active-passive', streams: [{ name: 'users', profile: 'sales', topics: topics(5_001) }] }).success, true);
  // Several streams on one profile add up; on different profiles (OAuth clients) they do not.
  const six = (profile: (i: number) => string) => Array.from({ length: 6 }, (_, i) => ({ name: `s${i}`, profile: profile(i), topics: topics(10, i * 10) }));
  assert.equal(streamerConfigSchema.safeParse({ ...base, streams: six(() => 'sales') }).success, false, '6 × 4 = 24 channels on one client');
  assert.equal(streamerConfigSchema.safeParse({ ...base, streams: six((i) => `p${i % 2}`) }).success, true, '12 per client');
  // Four replicas in active-active count four times: 3 streams × 2 × 4 = 24 per client.
  assert.equal(streamerConfigSchema.safeParse({ ...base, limits: { replicas: 4 }, streams: six((i) => `p${i % 2}`) }).success, false);
});

test('loadConfig refuses it at start with the setting in the message', () => {
  assert.throws(() => loadConfig(streamerConfigSchema, { envPrefix: 'GTB_STREAMER_', env: {}, base: { ...base, streams: [{ name: 'users', profile: 'sales', topics: topics(5_001) }] } }),
    /limits\.channelsPerClient/);
});

test('topics sort into snapshot families; those without a (complete) snapshot are listed for backfill', () => {
  const plan = planResync([
    'v2.users.a?presence&routingStatus', 'v2.users.b.presence', 'v2.routing.queues.q1.conversations', 'v2.analytics.queues.q1.observations',
    'v2.users.c.conversations', 'v2.detail.events.conversation.x1.customer.start',
  ]);
  assert.deepEqual(plan.presence, ['a', 'b']);
  assert.deepEqual(plan.routingStatus, ['a']);
  assert.deepEqual(plan.queueConversations, ['q1']);
  assert.deepEqual(plan.queueObservations, ['q1']);
  assert.deepEqual(plan.backfill, ['v2.users.c.conversations', 'v2.detail.events.conversation.x1.customer.start']);
  // In lifecycle events, as patterns and ids: a topic with a UUID in it would pass for a secret.
  assert.deepEqual(backfillPatterns(['v2.users.6a3af858-942f-489d-9700-5f9bcdcdae9b.conversations', 'v2.users.c2.conversations']),
    [{ topic: 'v2.users.{id}.conversations', ids: ['6a3af858-942f-489d-9700-5f9bcdcdae9b', 'c2'] }]);
});
