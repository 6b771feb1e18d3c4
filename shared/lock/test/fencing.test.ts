import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fencedWrite, luaScript, nextFence, readFenced, runScript } from '../src/index.js';
import { redisFor } from './helpers.js';

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

test('an unknown script is loaded on first use (EVALSHA falls back to EVAL)', async (t) => {
  const { redis, prefix } = await redisFor(t);
  // A script no server has seen yet, instead of SCRIPT FLUSH, which would disturb parallel suites.
  const script = luaScript(`-- ${prefix}\nreturn redis.call('INCR', KEYS[1])`);
  assert.equal(await runScript(redis, script, [`${prefix}:n`], []), 1);
  assert.equal(await runScript(redis, script, [`${prefix}:n`], []), 2);
});
