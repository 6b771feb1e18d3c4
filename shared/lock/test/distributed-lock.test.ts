import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDistributedLock } from '../src/index.js';
import { redisFor } from './helpers.js';

test('only one caller acquires; release frees the key for the next one', async (t) => {
  const { redis, prefix } = await redisFor(t);
  const lock = createDistributedLock({ redis });
  const key = `${prefix}:{p}:lock`;
  const results = await Promise.all(Array.from({ length: 20 }, () => lock.acquire(key, 10_000)));
  const held = results.filter((h) => h !== null);
  assert.equal(held.length, 1);
  assert.equal(await redis.get(key), held[0]!.owner);
  assert.equal(await held[0]!.release(), true);
  assert.equal(await redis.exists(key), 0);
  const next = await lock.acquire(key, 10_000);
  assert.ok(next !== null);
  assert.notEqual(next.owner, held[0]!.owner);
});

test('release is compare-and-delete: an expired holder cannot delete the next holder\'s lock', async (t) => {
  const { redis, prefix } = await redisFor(t);
  const lock = createDistributedLock({ redis });
  const key = `${prefix}:{p}:lock`;
  const first = await lock.acquire(key, 10_000);
  assert.ok(first !== null);
  // Simulate the first holder's TTL running out and a second replica taking over.
  await redis.del(key);
  const second = await lock.acquire(key, 10_000);
  assert.ok(second !== null);
  assert.equal(await first.release(), false);
  assert.equal(await first.extend(10_000), false);
  assert.equal(await redis.get(key), second.owner);
  assert.equal(await second.release(), true);
  assert.equal(await second.release(), false);
});

test('extend moves the expiry of our own lock only', async (t) => {
  const { redis, prefix } = await redisFor(t);
  let clock = 1_000;
  const lock = createDistributedLock({ redis, now: () => clock, random: () => `owner-${clock}` });
  const key = `${prefix}:{p}:lock`;
  const handle = await lock.acquire(key, 1_000);
  assert.ok(handle !== null);
  assert.equal(handle.owner, 'owner-1000');
  assert.equal(handle.expiresAt, 2_000);
  clock = 1_500;
  assert.equal(await handle.extend(60_000), true);
  assert.equal(handle.expiresAt, 61_500);
  const pttl = await redis.pttl(key);
  assert.ok(pttl > 30_000 && pttl <= 60_000, `pttl ${pttl}`);
  await handle.release();
});

test('a lock lapses by itself after its TTL', async (t) => {
  const { redis, prefix } = await redisFor(t);
  const lock = createDistributedLock({ redis });
  const key = `${prefix}:{p}:lock`;
  assert.ok(await lock.acquire(key, 50));
  const deadline = Date.now() + 5_000;
  let again = await lock.acquire(key, 10_000);
  while (again === null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    again = await lock.acquire(key, 10_000);
  }
  assert.ok(again);
});

test('bad TTLs are refused with a code', async (t) => {
  const { redis, prefix } = await redisFor(t);
  const lock = createDistributedLock({ redis });
  await assert.rejects(lock.acquire(`${prefix}:x`, 0), { code: 'ERR_VALIDATION' });
  await assert.rejects(lock.acquire(`${prefix}:x`, Number.NaN), { code: 'ERR_VALIDATION' });
});
