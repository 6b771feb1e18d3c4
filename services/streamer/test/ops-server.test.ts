import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@gtb/logger';
import { createRedis, waitReady } from '@gtb/redis';
import { createStreamer, streamerConfigSchema } from '../src/index.js';
import { createOpsServer } from '../src/http-server.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

test('/healthz, /readyz (503 before start) and /metrics; unknown paths and methods get problem codes', async (t) => {
  const config = streamerConfigSchema.parse({
    redis: { mode: 'standalone', url: REDIS_URL }, keyPrefix: `test-ops-${process.pid}`, brokerUrl: 'http://127.0.0.1:9',
    identity: { issuer: 'http://127.0.0.1:9', clientId: 'x', clientSecret: 'y' },
    streams: [{ name: 'q', profile: 'p', topics: ['v2.users.u.presence'] }],
  });
  const redis = createRedis(config.redis, { failFast: true });
  const sub = createRedis(config.redis);
  await waitReady(redis);
  const streamer = createStreamer({ config, redis, subscriber: sub, logger: createLogger({ name: 't', level: 'silent' }), idpToken: async () => 'unused' });
  const server = createOpsServer(streamer);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(async () => {
    await new Promise((r) => server.close(r));
    redis.disconnect();
    sub.disconnect();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  assert.equal((await fetch(`${base}/readyz`)).status, 503);
  const metrics = await fetch(`${base}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /gtb_streamer_events_in_total/);
  const missing = await fetch(`${base}/nope`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { code: string }).code, 'ERR_NOT_FOUND');
  const post = await fetch(`${base}/metrics`, { method: 'POST' });
  assert.equal(((await post.json()) as { code: string }).code, 'ERR_METHOD_NOT_ALLOWED');
});

test('configuration: defaults, and stream names must be unique', () => {
  const base = {
    redis: { mode: 'standalone', url: REDIS_URL }, brokerUrl: 'http://127.0.0.1:9',
    identity: { issuer: 'http://127.0.0.1:9', clientId: 'x', clientSecret: 'y' },
    streams: [{ name: 'q', profile: 'p', topics: ['v2.users.u.presence'] }],
  };
  const cfg = streamerConfigSchema.parse(base);
  assert.equal(cfg.timing.heartbeatTimeoutMs, 35_000);
  assert.equal(cfg.streams[0]!.allowPartialTopics, false);
  assert.equal(streamerConfigSchema.safeParse({ ...base, streams: [base.streams[0], base.streams[0]] }).success, false);
});
