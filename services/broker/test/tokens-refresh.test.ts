import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../../test/support/wait.js';
import { testClock, tokenHarness } from './tokens-helpers.js';

test('refresh-ahead: callers never wait, and each rotation costs exactly one mint cluster-wide', async (t) => {
  const clock = testClock();
  const h = await tokenHarness(t, { replicas: 3, service: { now: clock.now } });
  let current = await h.replicas[0]!.service.getToken('sales');
  await Promise.all(h.replicas.map((r) => r.service.getToken('sales')));
  assert.equal(h.mints(), 1);

  for (let rotation = 2; rotation <= 3; rotation++) {
    // Past the refresh point (80 % ± 5 %) but well before the minTtl point.
    clock.set(current.refreshAt + 1_000);
    const started = performance.now();
    const served = await Promise.all(h.replicas.flatMap((r) => Array.from({ length: 50 }, () => r.service.getToken('sales'))));
    const waitedMs = performance.now() - started;
    assert.ok(served.every((x) => x.fingerprint === current.fingerprint), 'callers get the still-valid token');
    // Generous for a busy CI machine; what proves no caller waited is that all got the old token.
    assert.ok(waitedMs < 3_000, `callers waited ${waitedMs} ms`);
    const stored = await waitFor('the background refresh', async () => {
      const fence = Number(await h.redis.hget(h.keys.token('sales'), 'fence'));
      return fence > current.fence ? fence : 0;
    }, { intervalMs: 20 });
    await waitFor('refreshes to settle', async () => {
      const states = await Promise.all(h.replicas.map((r) => r.service.state('sales')));
      return states.every((s) => !s.refreshing);
    }, { intervalMs: 20 });
    assert.equal(h.mints(), rotation);
    const next = await waitFor('every replica to serve the new token', async () => {
      const seen = await Promise.all(h.replicas.map((r) => r.service.getToken('sales')));
      return seen.every((x) => x.fence === stored) ? seen[0] : undefined;
    }, { intervalMs: 20 });
    assert.equal(h.mints(), rotation, 'no replica minted again');
    assert.ok(next.refreshAt > current.refreshAt);
    current = next;
  }
});

test('minTtl: a token with less than minTtl left is never handed out, it is a miss', async (t) => {
  const clock = testClock();
  const h = await tokenHarness(t, { replicas: 2, tokenLifetimeSeconds: 600, service: { now: clock.now } });
  const first = await h.replicas[0]!.service.getToken('sales');
  assert.ok(first.refreshAt <= first.issuedAt + 270_000, 'refresh starts before the token becomes unusable');
  // 301 s into a 600 s token with minTtl 300 s: 299 s left.
  clock.advance(301_000);
  const results = await Promise.all(h.replicas.flatMap((r) => Array.from({ length: 20 }, () => r.service.getToken('sales'))));
  assert.ok(results.every((x) => x.fingerprint !== first.fingerprint));
  assert.ok(results.every((x) => x.expiresAt - clock.now() >= 300_000));
  assert.equal(new Set(results.map((x) => x.fingerprint)).size, 1);
  assert.equal(h.mints(), 2);
});

test('a token lifetime not above minTtl is refused rather than minted again and again', async (t) => {
  const h = await tokenHarness(t, { tokenLifetimeSeconds: 300, refresh: { minTtlSeconds: 300 } });
  await assert.rejects(h.replicas[0]!.service.getToken('sales'), { code: 'ERR_UPSTREAM_REJECTED' });
  assert.ok(h.replicas[0]!.events.some((e) => e.type === 'token.mint_failed' && e.data.code === 'ERR_UPSTREAM_REJECTED'));
});
