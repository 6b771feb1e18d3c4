import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { ClientRateLimitInfo } from 'express-rate-limit';
import { callerRateLimit, callerKey, rateLimitHeaderValues } from '../src/http/caller-rate-limit.js';
import type { LocalHitStore } from '../src/http/shared-rate-limit-store.js';

const PER_MINUTE = 40;
const identity = { issuer: 'https://idp.example/', subject: 'app-1' };

/** A store whose counts the test sets; `tryHit` answers `fresh` (undefined: the count is stale). */
function fakeStore(fresh: ClientRateLimitInfo | undefined) {
  const calls = { increment: [] as string[], tryHit: [] as string[] };
  const info: ClientRateLimitInfo = { totalHits: 7, resetTime: new Date(Date.now() + 42_500) };
  const store: LocalHitStore = {
    localKeys: true,
    async increment(key) { calls.increment.push(key); return info; },
    async decrement() {},
    async resetKey() {},
    tryHit(key) { calls.tryHit.push(key); return fresh; },
  };
  return { store, calls, info };
}

/** The RateLimit headers one GET gets through callerRateLimit, behind a middleware that sets the verified identity. */
async function headersFrom(store: LocalHitStore | Omit<LocalHitStore, 'tryHit'>): Promise<{ policy: string | null; state: string | null }> {
  const app = express();
  app.use((_req, res, next) => { res.locals.identity = identity; next(); });
  app.use(callerRateLimit({ perMinute: PER_MINUTE, store: store as LocalHitStore }));
  app.get('/', (_req, res) => { res.end('ok'); });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await res.text();
    assert.equal(res.status, 200);
    return { policy: res.headers.get('ratelimit-policy'), state: res.headers.get('ratelimit') };
  } finally {
    await new Promise((r) => server.close(r));
  }
}

test('express-rate-limit\'s draft-7 headers are rateLimitHeaderValues\' text (which the hit path and the counted-here path write)', async () => {
  // A store without tryHit: every request through express-rate-limit.
  const { store, calls, info } = fakeStore(undefined);
  const { tryHit: _unused, ...plain } = store;
  const got = await headersFrom(plain);
  const expected = rateLimitHeaderValues(PER_MINUTE, info);
  assert.deepEqual(got, { policy: expected.policy, state: expected.state });
  assert.deepEqual(calls.increment, [callerKey(identity)], 'express-rate-limit counted the caller\'s key');
  assert.match(got.state ?? '', /^limit=40, remaining=33, reset=4[23]$/);
});

test('a count the store decides at once is taken without express-rate-limit; a stale one goes through it', async () => {
  const fresh: ClientRateLimitInfo = { totalHits: 9, resetTime: new Date(Date.now() + 42_500) };
  const now = fakeStore(fresh);
  const got = await headersFrom(now.store);
  assert.deepEqual(now.calls.tryHit, [callerKey(identity)]);
  assert.deepEqual(now.calls.increment, [], 'counted once, by tryHit');
  assert.deepEqual(got, rateLimitHeaderValues(PER_MINUTE, fresh));

  const stale = fakeStore(undefined);
  const viaLibrary = await headersFrom(stale.store);
  assert.deepEqual(stale.calls.increment, [callerKey(identity)], 'tryHit declined: express-rate-limit counted it');
  assert.deepEqual(viaLibrary, rateLimitHeaderValues(PER_MINUTE, stale.info));
});
