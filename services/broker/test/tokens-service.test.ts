import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../../test/support/wait.js';
import { tokenHarness } from './tokens-helpers.js';

test('3 replicas × 300 concurrent callers on a cold cache: exactly one mint, one token for all', async (t) => {
  const h = await tokenHarness(t, { replicas: 3 });
  const calls = h.replicas.flatMap((r) => Array.from({ length: 300 }, () => r.service.getToken('sales')));
  const tokens = await Promise.all(calls);
  assert.equal(h.mints(), 1);
  assert.equal(new Set(tokens.map((x) => x.accessToken)).size, 1);
  assert.equal(tokens[0]!.fence, 1);
  assert.equal(tokens[0]!.tokenType, 'bearer');
  assert.equal(tokens[0]!.apiBaseUrl, h.sandbox.url);
  // A second round is served from the caches.
  await Promise.all(h.replicas.map((r) => r.service.getToken('sales')));
  assert.equal(h.mints(), 1);
  const minted = h.replicas.flatMap((r) => r.events).filter((e) => e.type === 'token.minted');
  assert.equal(minted.length, 1);
  assert.equal(minted[0]!.data.fingerprint, tokens[0]!.fingerprint);
});

test('L2 holds no plaintext token and the logs hold none either', async (t) => {
  const h = await tokenHarness(t, { replicas: 2 });
  const token = await h.replicas[0]!.service.getToken('sales');
  const keys = await h.redis.keys(`${h.prefix}:*`);
  assert.ok(keys.includes(h.keys.token('sales')));
  for (const key of keys) {
    const type = await h.redis.type(key);
    const values = type === 'hash' ? Object.values(await h.redis.hgetall(key)) : type === 'string' ? [await h.redis.get(key)] : [];
    for (const v of values) assert.ok(!String(v).includes(token.accessToken), `plaintext token in ${key}`);
  }
  const stored = await h.redis.hgetall(h.keys.token('sales'));
  assert.equal(stored.fence, '1');
  assert.match(stored.value!, /^v1\.k1\./);
  await h.replicas[1]!.service.getToken('sales'); // an L2 hit on the other replica
  const state = await h.replicas[1]!.service.state('sales');
  assert.equal(state.fingerprint, token.fingerprint);
  assert.ok(!JSON.stringify(state).includes(token.accessToken));
  assert.ok(h.logs.length > 0);
  assert.ok(h.logs.every((line) => !line.includes(token.accessToken)), 'a log line holds the token');
  assert.ok(h.logs.some((line) => line.includes(token.fingerprint)));
});

test('rotate mints a new token through the lock; other replicas drop their L1 on the ready message', async (t) => {
  const h = await tokenHarness(t, { replicas: 2 });
  const [a, b] = h.replicas as [typeof h.replicas[0], typeof h.replicas[0]];
  const first = await a.service.getToken('sales');
  assert.equal((await b.service.getToken('sales')).fingerprint, first.fingerprint);
  const rotated = await Promise.all([a.service.rotate('sales'), a.service.rotate('sales')]);
  assert.equal(rotated[0]!.accessToken, rotated[1]!.accessToken, 'concurrent rotations collapse');
  assert.notEqual(rotated[0]!.accessToken, first.accessToken);
  assert.ok(rotated[0]!.fence > first.fence);
  assert.equal(h.mints(), 2);
  await waitFor('replica b to see the rotation', async () => (await b.service.getToken('sales')).fingerprint === rotated[0]!.fingerprint, { intervalMs: 20 });
  const rotatedEvents = a.events.filter((e) => e.type === 'token.rotated');
  assert.equal(rotatedEvents.length, 1);
  assert.equal(rotatedEvents[0]!.data.previousFingerprint, first.fingerprint);
});

test('revoke deletes the token at Genesys, purges L2 and L1 everywhere; the next call mints', async (t) => {
  const h = await tokenHarness(t, { replicas: 2 });
  const [a, b] = h.replicas as [typeof h.replicas[0], typeof h.replicas[0]];
  const first = await a.service.getToken('sales');
  await b.service.getToken('sales');
  await a.service.revoke('sales');
  assert.equal(h.sandbox.admin.counters().tokensRevoked, 1);
  assert.equal(await h.redis.exists(h.keys.token('sales')), 0);
  const next = await waitFor('replica b to drop the revoked token', async () => {
    const tok = await b.service.getToken('sales');
    return tok.fingerprint !== first.fingerprint ? tok : undefined;
  }, { intervalMs: 20 });
  assert.ok(next.fence > first.fence, 'fences keep increasing after a purge');
  assert.equal(h.mints(), 2);
  assert.ok(a.events.some((e) => e.type === 'token.revoked' && e.data.fingerprint === first.fingerprint));
  // Revoking only a superseded token keeps the cache.
  const rotated = await a.service.rotate('sales');
  await a.service.revoke('sales', next);
  assert.equal(h.sandbox.admin.counters().tokensRevoked, 2);
  assert.equal((await a.service.getToken('sales')).fingerprint, rotated.fingerprint);
});

test('unknown profiles and undecryptable cache entries', async (t) => {
  const h = await tokenHarness(t);
  const svc = h.replicas[0]!.service;
  await assert.rejects(svc.getToken('nope'), { code: 'ERR_PROFILE_UNKNOWN' });
  await assert.rejects(svc.rotate('__proto__'), { code: 'ERR_PROFILE_UNKNOWN' });
  await assert.rejects(svc.state('nope'), { code: 'ERR_PROFILE_UNKNOWN' });
  // A value encrypted under a key this ring does not have is a miss, not a failure.
  await h.redis.hset(h.keys.token('sales'), 'fence', '0', 'value', 'v1.gone.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA');
  const token = await svc.getToken('sales');
  assert.equal(h.mints(), 1);
  assert.equal(token.fence, 1);
});

test('after Redis loses its data, fences keep rising and every replica follows the new token', async (t) => {
  const h = await tokenHarness(t, { replicas: 3 });
  const [a, b, c] = h.replicas as [typeof h.replicas[0], typeof h.replicas[0], typeof h.replicas[0]];
  await a.service.getToken('sales');
  await a.service.rotate('sales');
  const held = await a.service.rotate('sales');
  assert.equal(held.fence, 3);
  assert.equal((await b.service.getToken('sales')).fence, 3);
  // Data loss: every key of the prefix is gone (a restart without persistence, an empty replica).
  const keys = await h.redis.keys(`${h.prefix}:*`);
  await h.redis.del(...keys);
  // A replica that holds fence 3 mints: the counter is lifted above what it knows.
  const lifted = await a.service.rotate('sales');
  assert.ok(lifted.fence > 3, `fence ${lifted.fence}`);
  await waitFor('replica b follows', async () => (await b.service.getToken('sales')).accessToken === lifted.accessToken, { intervalMs: 20 });
  // Lose the data again; now a replica that has held nothing mints and draws fence 1, lower than
  // what a and b hold in memory: they must still follow.
  await h.redis.del(...(await h.redis.keys(`${h.prefix}:*`)));
  const low = await c.service.rotate('sales');
  assert.equal(low.fence, 1);
  for (const r of [a, b]) {
    await waitFor('replicas follow a lower fence after data loss', async () => (await r.service.getToken('sales')).accessToken === low.accessToken, { intervalMs: 20 });
  }
});
