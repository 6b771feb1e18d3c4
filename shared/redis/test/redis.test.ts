import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { createKeys, createRedis, assertName, redisConfigSchema, waitReady } from '../src/index.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

test('all keys of one profile hash to one Cluster slot', () => {
  const k = createKeys('gtb');
  const profileKeys = [k.token('sales'), k.lock('sales'), k.fence('sales'), k.cooldown('sales'), k.leases('sales'), k.lease('sales', 'l1')];
  const slots = new Set(profileKeys.map((key) => calculateSlot(key)));
  assert.equal(slots.size, 1);
  assert.equal(k.token('sales'), 'gtb:{sales}:token');
  const streamKeys = [k.events('s1'), k.dedupe('s1', 'x'), k.owner('s1'), k.ownerFence('s1')];
  assert.equal(new Set(streamKeys.map((key) => calculateSlot(key))).size, 1);
  assert.equal(k.events('s1'), 'gtb:events:{s1}');
  assert.equal(k.lifecycleChannel('token.rotated'), 'gtb:lifecycle:token.rotated');
});

test('names and prefixes are validated', () => {
  assert.doesNotThrow(() => assertName('profile', 'sales-eu_1.x'));
  for (const bad of ['', 'a{b}', 'a b', '-x', 'x'.repeat(65), 'a/b']) {
    assert.throws(() => assertName('profile', bad), { code: 'ERR_VALIDATION' });
  }
  assert.throws(() => createKeys('bad prefix'), { code: 'ERR_CONFIG_INVALID' });
});

test('the config schema accepts the three modes and rejects nonsense', () => {
  assert.ok(redisConfigSchema.safeParse({ mode: 'standalone', url }).success);
  assert.ok(redisConfigSchema.safeParse({ mode: 'sentinel', name: 'm', sentinels: [{ host: '127.0.0.1', port: 26379 }] }).success);
  assert.ok(redisConfigSchema.safeParse({ mode: 'cluster', nodes: [{ host: '127.0.0.1', port: 7000 }] }).success);
  assert.equal(redisConfigSchema.safeParse({ mode: 'standalone', url: 'http://x' }).success, false);
  assert.equal(redisConfigSchema.safeParse({ mode: 'cluster', nodes: [] }).success, false);
});

test('a standalone client talks to the real Redis', async (t) => {
  const client = createRedis({ mode: 'standalone', url }, { connectionName: 'redis-test' });
  t.after(() => client.quit());
  await waitReady(client);
  const key = `test:${randomUUID()}:k`;
  await client.set(key, 'v', 'PX', 5000);
  assert.equal(await client.get(key), 'v');
  await client.del(key);
});

test('a fail-fast client rejects at once while Redis is unreachable', async (t) => {
  const client = createRedis({ mode: 'standalone', url: 'redis://127.0.0.1:1' }, { failFast: true });
  t.after(() => client.disconnect());
  client.on('error', () => {});
  const started = Date.now();
  await assert.rejects(client.get('x'));
  assert.ok(Date.now() - started < 5000);
});
