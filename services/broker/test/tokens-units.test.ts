import { test } from 'node:test';
import assert from 'node:assert/strict';
import { profileConfigSchema, profileHosts } from '../src/tokens/index.js';
import { computeRefreshAt, isUsable } from '../src/tokens/refresh-policy.js';
import { createCircuitBreaker } from '../src/tokens/circuit-breaker.js';
import { retry } from '../src/tokens/retry.js';
import { createSingleFlight } from '../src/tokens/single-flight.js';
import { GtbError } from '@gtb/errors';

const base = { name: 'sales', clientId: 'id', clientSecret: 's' };

test('a profile names exactly one of region or both base URLs', () => {
  const byRegion = profileConfigSchema.parse({ ...base, region: 'eu_central_1' });
  assert.deepEqual(byRegion.refresh, { at: 0.8, jitter: 0.05, minTtlSeconds: 300 });
  assert.equal(profileHosts(byRegion).loginBaseUrl, 'https://login.mypurecloud.de');
  const byUrl = profileConfigSchema.parse({ ...base, loginBaseUrl: 'http://127.0.0.1:9', apiBaseUrl: 'http://127.0.0.1:9' });
  assert.equal(profileHosts(byUrl).apiBaseUrl, 'http://127.0.0.1:9');
  for (const bad of [
    { ...base },
    { ...base, region: 'eu_central_1', apiBaseUrl: 'https://x' },
    { ...base, loginBaseUrl: 'https://x' },
    { ...base, region: 'mars_1' },
    { ...base, region: 'eu_central_1', name: 'a{b}' },
    { ...base, region: 'eu_central_1', clientSecret: '' },
    { ...base, loginBaseUrl: 'ftp://x', apiBaseUrl: 'https://x' },
    { ...base, region: 'eu_central_1', refresh: { at: 1.5 } },
    { ...base, region: 'eu_central_1', unknown: 1 },
  ]) {
    assert.equal(profileConfigSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
});

test('the refresh point is 80 % ± 5 % of the lifetime, and always before the minTtl point', () => {
  const issuedAt = 1_000_000;
  const expiresAt = issuedAt + 3_600_000;
  const at = (r: number) => computeRefreshAt({ issuedAt, expiresAt, at: 0.8, jitter: 0.05, minTtlMs: 300_000, random: () => r });
  assert.equal(at(0.5), issuedAt + 2_880_000);
  assert.equal(at(0), issuedAt + 2_700_000);
  // 85 % would be 3060 s, past 90 % of the 3300 s the token may be handed out: clamped to 2970 s.
  assert.equal(at(0.999999), issuedAt + 2_970_000);
  // A 10-minute token with a 5-minute minTtl: refresh must begin before 5 minutes are gone.
  const short = computeRefreshAt({ issuedAt, expiresAt: issuedAt + 600_000, at: 0.8, jitter: 0.05, minTtlMs: 300_000, random: () => 0.5 });
  assert.ok(short <= issuedAt + 270_000);
  assert.equal(isUsable({ expiresAt }, expiresAt - 300_000, 300_000), true);
  assert.equal(isUsable({ expiresAt }, expiresAt - 299_999, 300_000), false);
});

test('the breaker opens after N failures, lets one trial through after the cool-off, and closes on success', () => {
  let clock = 0;
  const breaker = createCircuitBreaker({ failureThreshold: 2, coolOffMs: 1000, now: () => clock });
  breaker.check();
  breaker.failure();
  breaker.check();
  breaker.failure();
  assert.equal(breaker.state(), 'open');
  assert.throws(() => breaker.check(), (err: GtbError) => err.code === 'ERR_CIRCUIT_OPEN' && err.retryAfter === 1);
  clock = 1000;
  assert.equal(breaker.state(), 'half-open');
  breaker.check(); // the one trial
  assert.throws(() => breaker.check(), { code: 'ERR_CIRCUIT_OPEN' });
  breaker.failure();
  assert.equal(breaker.state(), 'open');
  clock = 2000;
  breaker.check();
  breaker.success();
  assert.equal(breaker.state(), 'closed');
});

test('retry: capped, jittered, only for retryable errors', async () => {
  const sleeps: number[] = [];
  let calls = 0;
  const opts = { tries: 3, baseMs: 200, maxMs: 300, random: () => 1, sleep: async (ms: number) => void sleeps.push(ms), retryable: (e: unknown) => (e as GtbError).code === 'ERR_UPSTREAM_UNAVAILABLE' };
  await assert.rejects(retry(async () => { calls++; throw new GtbError('ERR_UPSTREAM_UNAVAILABLE'); }, opts), { code: 'ERR_UPSTREAM_UNAVAILABLE' });
  assert.equal(calls, 3);
  assert.deepEqual(sleeps, [200, 300]);
  calls = 0;
  await assert.rejects(retry(async () => { calls++; throw new GtbError('ERR_UPSTREAM_REJECTED'); }, opts), { code: 'ERR_UPSTREAM_REJECTED' });
  assert.equal(calls, 1);
  assert.equal(await retry(async (n) => { if (n < 2) throw new GtbError('ERR_UPSTREAM_UNAVAILABLE'); return n; }, opts), 2);
});

test('single flight shares one promise per key while it runs', async () => {
  const flight = createSingleFlight<number>();
  let runs = 0;
  const fn = async () => { runs++; await new Promise((r) => setTimeout(r, 10)); return runs; };
  const results = await Promise.all([flight.run('a', fn), flight.run('a', fn), flight.run('b', fn)]);
  assert.deepEqual(results.slice(0, 2), [results[0], results[0]]);
  assert.equal(runs, 2);
  // Settled flights are forgotten: the next call runs again, and so does one after a failure.
  assert.equal(await flight.run('a', fn), 3);
  await assert.rejects(flight.run('a', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await flight.run('a', fn), 4);
});
