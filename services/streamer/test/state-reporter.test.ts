// The state reporter against the real Redis: what one replica writes for /v1/streams and the
// operator console, the heartbeat's TTL, the key going away on a graceful stop, and that only
// channel fingerprints leave the process. The clock is injected and advances 10 s per report, so
// rates do not depend on how fast the timer fires on a busy machine.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createKeys, createRedis, waitReady } from '@gtb/redis';
import { fingerprint } from '@gtb/logger';
import { memoryLogger, REDIS_URL } from '../../../test/support/system.js';
import { waitFor } from '../../../test/support/wait.js';
import { streamSchema } from '../src/config.js';
import { createStreamerMetrics } from '../src/metrics.js';
import { startStateReporter } from '../src/state-reporter.js';

/** A made-up channel id and connect URI, as a worker holds them: neither may appear in the report. */
const CHANNEL_ID = 'streamer-state-test-channel-0000000000000000';
const CONNECT_URI = `wss://streaming.example.test/channels/${CHANNEL_ID}`;

interface Report {
  instance: string;
  reportedAt: number;
  intervalMs: number;
  streams: {
    name: string; profile: string; mode: string; owner: boolean; receiving: boolean; failed?: string; sockets: number;
    channel: { fingerprint: string; openedAt?: number; expiresAt?: number } | null;
    topics: number; eventsPerSecond: number; lagMs: number | null; rollovers: Record<string, number>; gaps: number; buffered: number;
  }[];
}

async function setUp(t: TestContext, intervalMs: number) {
  const prefix = `test-state-reporter-${randomUUID().slice(0, 8)}`;
  const keys = createKeys(prefix);
  const redis = createRedis({ mode: 'standalone', url: REDIS_URL });
  await waitReady(redis);
  t.after(async () => {
    const left = await redis.keys(`${prefix}:*`);
    if (left.length) await redis.del(...left);
    await redis.quit();
  });
  // Every value the reporter sends, in order, beside what Redis holds: the test reads each report,
  // however quickly the next one replaces it.
  const written: Report[] = [];
  const set = redis.set.bind(redis) as (...args: unknown[]) => Promise<unknown>;
  (redis as unknown as { set: (...args: unknown[]) => Promise<unknown> }).set = (...args: unknown[]) => {
    written.push(JSON.parse(String(args[1])) as Report);
    return set(...args);
  };
  let clock = Date.parse('2026-11-30T12:00:00Z');
  const now = () => (clock += 10_000);
  const metrics = createStreamerMetrics();
  const config = {
    ha: 'active-passive' as const,
    streams: [
      streamSchema.parse({ name: 'presence', profile: 'sales', topics: ['v2.users.u1.presence', 'v2.users.u2.presence'] }),
      streamSchema.parse({ name: 'queues', profile: 'sales', topics: ['v2.routing.queues.q1.conversations'] }),
    ],
  };
  return { prefix, keys, redis, written, metrics, config, now, intervalMs };
}

test('a replica reports each configured stream: role, channel fingerprint and expiry, rates from its counters, rollovers, gaps', { timeout: 30_000 }, async (t) => {
  const { keys, redis, written, metrics, config, now } = await setUp(t, 200);
  const expiresAt = Date.parse('2026-12-01T12:00:00Z');
  metrics.sockets.set({ stream: 'presence' }, 2);
  metrics.rollovers.inc({ stream: 'presence', trigger: 'channel_expiring' }, 3);
  metrics.rollovers.inc({ stream: 'presence', trigger: 'token_rotated' });
  metrics.gaps.inc({ stream: 'presence', cause: 'drop' });
  metrics.gaps.inc({ stream: 'presence', cause: 'redis' });
  const reporter = startStateReporter({
    instanceId: 'replica 1/a', config, redis, keys, metrics, logger: memoryLogger('silent').logger, now, intervalMs: 200,
    status: () => [{
      stream: 'presence', receiving: true, owner: true, buffered: 7, failed: undefined,
      channelFingerprint: fingerprint(CHANNEL_ID), channelExpiresAt: expiresAt,
      // What else a runner's status may carry is not copied: here, the secrets a worker holds.
      ...({ channelId: CHANNEL_ID, connectUri: CONNECT_URI } as object),
    }, {
      stream: 'queues', receiving: false, owner: true, buffered: 0, channelFingerprint: undefined, failed: `subscribe refused ${'x'.repeat(400)}`,
    }],
  });
  t.after(() => reporter.stop());

  // The first report has no previous one: no rate yet. Then 50 events and two lag samples arrive.
  await waitFor('the first report', () => written.length >= 1, { timeoutMs: 15_000 });
  metrics.eventsOut.inc({ stream: 'presence' }, 50);
  metrics.lag.observe({ stream: 'presence' }, 0.02);
  metrics.lag.observe({ stream: 'presence' }, 0.04);
  await waitFor('a report with a rate', () => written.some((r) => r.streams[0]!.eventsPerSecond > 0), { timeoutMs: 15_000 });

  const first = written[0]!;
  assert.equal(first.streams[0]!.eventsPerSecond, 0);
  assert.equal(first.streams[0]!.lagMs, null);
  const report = written.find((r) => r.streams[0]!.eventsPerSecond > 0)!;
  assert.equal(report.instance, 'replica 1/a');
  assert.equal(report.intervalMs, 200);
  const [presence, queues] = report.streams;
  assert.deepEqual(presence, {
    name: 'presence', profile: 'sales', mode: 'active-passive', owner: true, receiving: true, sockets: 2,
    channel: { fingerprint: fingerprint(CHANNEL_ID), expiresAt },
    topics: 2,
    eventsPerSecond: 5, // 50 events over the clock's 10 s between two reports
    lagMs: 30, // the mean of the two samples
    rollovers: { channel_expiring: 3, token_rotated: 1 },
    gaps: 2,
    buffered: 7,
  });
  assert.equal(queues!.channel, null);
  assert.equal(queues!.receiving, false);
  assert.equal(queues!.failed?.length, 300, 'a failure is cut to 300 characters');
  assert.equal(queues!.eventsPerSecond, 0);

  // The key names the instance with only safe characters, and holds the newest report; the index lists it.
  const stored = JSON.parse((await redis.get(keys.streamerState('replica-1-a')))!) as Report;
  assert.ok(stored.reportedAt >= report.reportedAt);
  assert.deepEqual(await redis.zrange(keys.streamerStateIndex(), 0, -1), ['replica-1-a']);
  for (const r of written) {
    const text = JSON.stringify(r);
    assert.ok(!text.includes(CHANNEL_ID), 'no channel id in a report');
    assert.ok(!text.includes('streaming.example.test'), 'no connect URI in a report');
  }
});

test('the heartbeat: the key lives 30 intervals, is rewritten each interval, and a graceful stop deletes it', { timeout: 30_000 }, async (t) => {
  const intervalMs = 1000;
  const { keys, redis, written, metrics, config, now } = await setUp(t, intervalMs);
  const reporter = startStateReporter({
    instanceId: 'replica-2', config, redis, keys, metrics, logger: memoryLogger('silent').logger, now, intervalMs, status: () => [],
  });
  t.after(() => reporter.stop());
  const key = keys.streamerState('replica-2');
  await waitFor('the key', async () => (await redis.exists(key)) === 1, { timeoutMs: 15_000 });
  const ttl = await redis.pttl(key);
  assert.ok(ttl > 25 * intervalMs && ttl <= 30 * intervalMs, `PTTL ${ttl} ms, expected 30 intervals (${30 * intervalMs} ms)`);
  const before = written.length;
  await waitFor('two more heartbeats', () => written.length >= before + 2, { timeoutMs: 20_000 });
  const stored = JSON.parse((await redis.get(key))!) as Report;
  assert.ok(stored.reportedAt > written[before - 1]!.reportedAt, 'the stored report is a newer heartbeat');
  // A replica that runs no stream still reports every configured one, as not owned.
  assert.deepEqual(stored.streams.map((s) => [s.name, s.owner, s.channel]), [['presence', false, null], ['queues', false, null]]);
  const score = Number(await redis.zscore(keys.streamerStateIndex(), 'replica-2'));
  assert.ok(written.some((r) => r.reportedAt === score), 'the index scores the replica by the time of a report');
  await reporter.stop();
  assert.equal(await redis.exists(key), 0, 'a graceful stop deletes the key');
  assert.equal(await redis.zscore(keys.streamerStateIndex(), 'replica-2'), null, 'and leaves the index');
});
