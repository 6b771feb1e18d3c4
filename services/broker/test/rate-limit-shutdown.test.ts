import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@gtb/logger';
import { startSystem } from '../../../test/support/system.js';
import { brokerConfigSchema } from '../src/config.js';
import { startBroker } from '../src/compose.js';
import { waitUntilReady } from '../../../test/support/system.js';

test('the per-caller rate limit is shared by all replicas through Redis', async (t) => {
  const rateLimit = { perMinute: 5 };
  const sys = await startSystem({ brokerOverrides: { rateLimit } });
  t.after(() => sys.close());
  const second = await startBroker({ config: brokerConfigSchema.parse({ ...sys.rawConfig, rateLimit, instanceId: 'second' }), logger: createLogger({ name: 't', level: 'silent' }) });
  t.after(() => second.stop());
  await waitUntilReady(second.url);
  const auth = { authorization: `Bearer ${await sys.tokenFor('app')}` };
  // The limit counts in fixed one-minute windows: start well inside one, so the counts cannot reset mid-test.
  const intoWindow = Date.now() % 60_000;
  if (intoWindow > 50_000) await new Promise((r) => setTimeout(r, 60_000 - intoWindow + 200));
  const statuses: number[] = [];
  // Spaced past the store's 100 ms sync, so every replica decides on the exact shared count.
  for (let i = 0; i < 6; i++) {
    const url = i % 2 === 0 ? sys.broker.url : second.url;
    statuses.push((await fetch(`${url}/v1/tokens/sales`, { headers: auth })).status);
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
  const limited = await fetch(`${second.url}/v1/tokens/sales`, { headers: auth });
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  assert.equal((await limited.json() as { code: string }).code, 'ERR_RATE_LIMITED');
  // A burst on one replica is counted locally between syncs: still limited.
  const burst = await Promise.all(Array.from({ length: 20 }, () => fetch(`${sys.broker.url}/v1/tokens/sales`, { headers: auth }).then((r) => r.status)));
  assert.ok(burst.every((s) => s === 429), `burst: ${burst.join(',')}`);
  // Another caller has its own budget.
  const other = await fetch(`${second.url}/v1/tokens/sales`, { headers: { authorization: `Bearer ${await sys.tokenFor('admin')}` } });
  assert.equal(other.status, 200);
});

test('shutdown drains: an in-flight mint completes, the lock is released, new requests are refused', async (t) => {
  const sys = await startSystem();
  t.after(() => sys.close());
  const auth = { authorization: `Bearer ${await sys.tokenFor('app')}` };
  // Warm the identity cache, then make the cold mint slow so that it is in flight at SIGTERM time.
  await fetch(`${sys.broker.url}/healthz`);
  sys.sandbox.admin.injectFault({ type: 'latency', ms: 1500, route: '/oauth/token' });
  const inFlight = fetch(`${sys.broker.url}/v1/tokens/sales`, { headers: auth });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await sys.redis.exists(`${sys.prefix}:{sales}:lock`), 1, 'the mint holds the lock');
  const stopping = sys.broker.stop();
  const res = await inFlight;
  assert.equal(res.status, 200, 'the in-flight request completed');
  await stopping;
  assert.equal(await sys.redis.exists(`${sys.prefix}:{sales}:lock`), 0, 'the lock was released');
  await assert.rejects(fetch(`${sys.broker.url}/v1/tokens/sales`, { headers: auth }), 'a stopped replica accepts no new request');
});
