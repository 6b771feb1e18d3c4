import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GtbError } from '@gtb/errors';
import { nextFence } from '@gtb/lock';
import type { GenesysLogin } from '@gtb/genesys';
import { createGenesysLogin } from '@gtb/genesys';
import { waitFor } from '../../../test/support/wait.js';
import { testClock, tokenHarness } from './tokens-helpers.js';

test('throttling: the cooldown holds every replica off the upstream; valid tokens are still served', async (t) => {
  const clock = testClock();
  const h = await tokenHarness(t, { replicas: 3, service: { now: clock.now, cooldown: { baseMs: 20_000, maxMs: 20_000 } } });
  const first = await h.replicas[0]!.service.getToken('sales');
  await Promise.all(h.replicas.map((r) => r.service.getToken('sales')));
  h.sandbox.admin.injectFault({ type: 'token-throttle', count: 1000 });

  // Past the refresh point: the background refresh is throttled and sets the cooldown.
  clock.set(first.refreshAt + 1_000);
  assert.equal((await h.replicas[1]!.service.getToken('sales')).fingerprint, first.fingerprint);
  await waitFor('the cooldown key', async () => (await h.redis.pttl(h.keys.cooldown('sales'))) > 0, { intervalMs: 20 });
  const rejected = () => h.sandbox.admin.counters().tokenRequestsRejected[h.clientIds.sales!] ?? 0;
  await waitFor('one throttled request', () => rejected() === 1, { intervalMs: 20 });

  // Valid-token callers are unaffected, on every replica.
  const served = await Promise.all(h.replicas.flatMap((r) => Array.from({ length: 30 }, () => r.service.getToken('sales'))));
  assert.ok(served.every((x) => x.fingerprint === first.fingerprint));

  // Once the token is within minTtl, callers get ERR_UPSTREAM_THROTTLED with the remaining cooldown.
  clock.set(first.expiresAt - 100_000);
  for (const r of h.replicas) {
    await assert.rejects(r.service.getToken('sales'), (err: GtbError) => {
      assert.equal(err.code, 'ERR_UPSTREAM_THROTTLED');
      assert.ok(err.retryAfter !== undefined && err.retryAfter >= 1 && err.retryAfter <= 20, `retryAfter ${err.retryAfter}`);
      return true;
    });
  }
  await assert.rejects(h.replicas[2]!.service.rotate('sales'), { code: 'ERR_UPSTREAM_THROTTLED' });
  assert.equal(rejected(), 1, 'no upstream call during the cooldown');
  assert.equal(h.mints(), 1);
  const limited = h.replicas.flatMap((r) => r.events).filter((e) => e.type === 'token.rate_limited');
  assert.equal(limited.length, 1);
  assert.equal(limited[0]!.type === 'token.rate_limited' && limited[0]!.data.retryAfterSeconds, 20);

  // The cooldown over, the next caller mints.
  h.sandbox.admin.clearFaults();
  await h.redis.del(h.keys.cooldown('sales'));
  const next = await h.replicas[0]!.service.getToken('sales');
  assert.notEqual(next.fingerprint, first.fingerprint);
});

test('5xx: capped retries, then the breaker opens; a still-valid token keeps being served', async (t) => {
  const clock = testClock();
  let loginCalls = 0;
  const countingFetch: typeof fetch = (input, init) => {
    if (String(input).endsWith('/oauth/token')) loginCalls++;
    return fetch(input, init);
  };
  const h = await tokenHarness(t, {
    profiles: ['sales', 'support'],
    service: { now: clock.now, fetch: countingFetch, retry: { tries: 3, baseMs: 5, maxMs: 20 }, breaker: { failureThreshold: 2, coolOffMs: 60_000 } },
  });
  const svc = h.replicas[0]!.service;
  const warm = await svc.getToken('sales');
  assert.equal(loginCalls, 1);
  h.sandbox.admin.injectFault({ type: 'error5xx', status: 503, route: '/oauth/token' });

  // Cold profile: three tries, then ERR_UPSTREAM_UNAVAILABLE; twice, then the breaker is open.
  await assert.rejects(svc.getToken('support'), { code: 'ERR_UPSTREAM_UNAVAILABLE' });
  assert.equal(loginCalls, 4);
  await assert.rejects(svc.getToken('support'), { code: 'ERR_UPSTREAM_UNAVAILABLE' });
  assert.equal(loginCalls, 7);
  await assert.rejects(svc.getToken('support'), (err: GtbError) => err.code === 'ERR_CIRCUIT_OPEN' && err.retryAfter === 60);
  assert.equal(loginCalls, 7, 'an open circuit makes no upstream call');
  assert.equal((await svc.state('support')).circuit, 'open');

  // The warm profile's background refresh fails too, but its callers keep the valid token.
  clock.set(warm.refreshAt + 1_000);
  assert.equal((await svc.getToken('sales')).fingerprint, warm.fingerprint);
  await waitFor('the failed background refresh', () => loginCalls === 10, { intervalMs: 20 });
  await waitFor('the refresh to settle', async () => !(await svc.state('sales')).refreshing, { intervalMs: 20 });
  assert.equal((await svc.getToken('sales')).fingerprint, warm.fingerprint);

  // After the cool-off, one trial goes through and closes the circuit.
  h.sandbox.admin.clearFaults();
  clock.advance(60_000);
  const support = await svc.getToken('support');
  assert.ok(support.accessToken);
  assert.equal((await svc.state('support')).circuit, 'closed');
});

test('waiters never call upstream themselves and give up with ERR_LOCK_TIMEOUT', async (t) => {
  const h = await tokenHarness(t, { replicas: 2, service: { waitTimeoutMs: 600, pollMs: 50 } });
  // Another replica holds the lock and never finishes.
  await h.redis.set(h.keys.lock('sales'), 'someone-else', 'PX', 60_000);
  const started = Date.now();
  await Promise.all(h.replicas.map((r) => assert.rejects(r.service.getToken('sales'), { code: 'ERR_LOCK_TIMEOUT' })));
  assert.ok(Date.now() - started < 5_000);
  assert.equal(h.mints(), 0);
});

test('a late write with an older fence is refused; the slow holder returns the newer token', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  let slowStarted = false;
  const h = await tokenHarness(t);
  const slowLogin = (base: string): GenesysLogin => {
    const real = createGenesysLogin({ loginBaseUrl: base });
    return {
      async clientCredentials(id, secret) {
        const token = await real.clientCredentials(id, secret);
        slowStarted = true;
        await gate; // a long GC pause or a slow network, past the lock's TTL
        return token;
      },
    };
  };
  const slow = await h.addReplica({ loginFor: (p) => slowLogin(p.loginBaseUrl!) });
  const fast = h.replicas[0]!;
  const slowCall = slow.service.getToken('sales');
  await waitFor('the slow mint', () => slowStarted, { intervalMs: 20 });
  // The slow holder's lock lapses; the fast replica takes over with a newer fence and writes.
  await h.redis.del(h.keys.lock('sales'));
  const fresh = await fast.service.getToken('sales');
  assert.equal(fresh.fence, 2);
  release();
  const late = await slowCall;
  assert.equal(late.fingerprint, fresh.fingerprint, 'the slow holder discarded its own token');
  assert.equal(h.mints(), 2);
  const stored = await h.redis.hgetall(h.keys.token('sales'));
  assert.equal(stored.fence, '2');
  assert.ok(h.logs.some((l) => l.includes('discarding')));
  // The fence counter is shared: the next fence is above both.
  assert.equal(await nextFence(h.redis, h.keys.fence('sales')), 3);
});

test('Redis down: L1 is served while valid; without it, ERR_REDIS_UNAVAILABLE and no mint', async (t) => {
  const h = await tokenHarness(t, { profiles: ['sales', 'support'] });
  const r = h.replicas[0]!;
  const warm = await r.service.getToken('sales');
  r.redis.disconnect(); // fail-fast client: commands now reject at once
  assert.equal((await r.service.getToken('sales')).fingerprint, warm.fingerprint);
  await assert.rejects(r.service.getToken('support'), { code: 'ERR_REDIS_UNAVAILABLE' });
  await assert.rejects(r.service.rotate('sales'), { code: 'ERR_REDIS_UNAVAILABLE' });
  const state = await r.service.state('sales');
  assert.equal(state.redisAvailable, false);
  assert.equal(state.fingerprint, warm.fingerprint);
  assert.equal(h.mints('support'), 0);
});
