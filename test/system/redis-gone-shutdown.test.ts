/**
 * A broker asked to stop while its Redis is gone stops within a bound, well inside Kubernetes'
 * default 30 s grace period: every Redis command of the shutdown (UNSUBSCRIBE, QUIT) is bounded,
 * instead of waiting in ioredis' offline queue until it gives up reconnecting (it took 32 s).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSystem } from '../support/system.js';
import { startPrivateRedis } from '../support/redis-server.js';

test('a broker stops within 15 s when its Redis has gone away', { timeout: 90_000 }, async (t) => {
  // A private Redis on its own port: this test stops it.
  const redis = await startPrivateRedis();
  t.after(() => redis.stop());
  await redis.start();
  const sys = await startSystem({ brokerOverrides: { redis: { mode: 'standalone', url: redis.url } } });
  t.after(() => sys.close());
  assert.equal((await sys.get('/v1/tokens/sales')).status, 200, 'the broker served with Redis up (subscribed, token cached)');
  await redis.stop();
  await sleep(1_000); // the broker has seen the connection drop
  const started = Date.now();
  await sys.broker.stop();
  const took = Date.now() - started;
  assert.ok(took < 15_000, `stop() took ${took} ms with Redis gone`);
  t.diagnostic(`stop() took ${took} ms with Redis gone`);
});
