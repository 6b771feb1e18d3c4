import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedis, waitReady, type RedisClient } from '@gtb/redis';
import { createDistributedLock, fencedWrite, nextFence, readFenced } from '../src/index.js';
import { startPrivateRedis } from '../../../test/support/redis-server.js';
import { redisFor } from './helpers.js';

/** `calls` of one command in `INFO commandstats` (commands run inside scripts are counted apart). */
async function calls(redis: RedisClient, command: string): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
}

test('fences increase and a newer fence overwrites an older one', async (t) => {
  const { redis, prefix } = await redisFor(t);
  const fenceKey = `${prefix}:{p}:fence`;
  const dataKey = `${prefix}:{p}:data`;
  const a = await nextFence(redis, fenceKey);
  const b = await nextFence(redis, fenceKey);
  assert.equal(b, a + 1);
  assert.equal(await fencedWrite(redis, { dataKey, value: 'A', fence: a, ttlMs: 10_000 }), true);
  assert.equal(await fencedWrite(redis, { dataKey, value: 'B', fence: b, ttlMs: 10_000 }), true);
  assert.deepEqual(await readFenced(redis, dataKey), { fence: b, value: 'B' });
  const pttl = await redis.pttl(dataKey);
  assert.ok(pttl > 0 && pttl <= 10_000);
});

test('a late write with an older or equal fence is refused', async (t) => {
  const { redis, prefix } = await redisFor(t);
  const fenceKey = `${prefix}:{p}:fence`;
  const dataKey = `${prefix}:{p}:data`;
  const older = await nextFence(redis, fenceKey);
  const newer = await nextFence(redis, fenceKey);
  assert.equal(await fencedWrite(redis, { dataKey, fenceKey, value: 'new', fence: newer, ttlMs: 10_000 }), true);
  assert.equal(await fencedWrite(redis, { dataKey, fenceKey, value: 'old', fence: older, ttlMs: 10_000 }), false);
  assert.equal(await fencedWrite(redis, { dataKey, fenceKey, value: 'same', fence: newer, ttlMs: 10_000 }), false);
  assert.deepEqual(await readFenced(redis, dataKey), { fence: newer, value: 'new' });
});

test('with a fence key, a fence that was never issued is refused', async (t) => {
  const { redis, prefix } = await redisFor(t);
  const fenceKey = `${prefix}:{p}:fence`;
  const dataKey = `${prefix}:{p}:data`;
  const issued = await nextFence(redis, fenceKey);
  assert.equal(await fencedWrite(redis, { dataKey, fenceKey, value: 'forged', fence: issued + 5, ttlMs: 10_000 }), false);
  assert.equal(await readFenced(redis, dataKey), null);
  await assert.rejects(fencedWrite(redis, { dataKey, value: 'x', fence: 0, ttlMs: 1000 }), { code: 'ERR_VALIDATION' });
});

test('the scripts run as ioredis commands: EVAL once per connection, then EVALSHA, and EVAL again after Redis forgot them', { timeout: 30_000 }, async (t) => {
  // A private server: SCRIPT FLUSH on the shared Redis would pull scripts from under other tests.
  const server = await startPrivateRedis();
  t.after(() => server.stop());
  const redis = createRedis({ mode: 'standalone', url: server.url });
  const admin = createRedis({ mode: 'standalone', url: server.url });
  for (const c of [redis, admin]) c.on('error', () => undefined);
  await Promise.all([waitReady(redis), waitReady(admin)]);
  t.after(() => { redis.disconnect(); admin.disconnect(); });
  const lock = createDistributedLock({ redis });
  const dataKey = '{p}:data';

  for (let fence = 1; fence <= 5; fence++) {
    const handle = await lock.acquire('{p}:lock', 10_000);
    assert.ok(handle);
    assert.equal(await handle.extend(20_000), true);
    assert.equal(await fencedWrite(redis, { dataKey, value: `v${fence}`, fence, ttlMs: 10_000 }), true);
    assert.equal(await handle.release(), true);
  }
  // Three scripts (release, extend, fenced write), each sent whole once, then by SHA.
  assert.equal(await calls(admin, 'eval'), 3);
  assert.equal(await calls(admin, 'evalsha'), 12);

  await admin.script('FLUSH');
  const handle = await lock.acquire('{p}:lock', 10_000);
  assert.ok(handle);
  assert.equal(await fencedWrite(redis, { dataKey, value: 'v6', fence: 6, ttlMs: 10_000 }), true, 'NOSCRIPT is answered by sending the script again');
  assert.equal(await handle.release(), true);
  assert.equal(await handle.release(), false, 'a second release finds the lock gone');
  assert.deepEqual(await readFenced(redis, dataKey), { fence: 6, value: 'v6' });
  assert.equal(await calls(admin, 'eval'), 5, 'the two scripts used since the flush were sent whole once more');
});
