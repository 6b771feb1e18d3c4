import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKeys, createRedis } from '@gtb/redis';
import { createEventSubscriber, type AnyCloudEvent } from '@gtb/events';
import { startSystem, type TestSystem } from '../../../test/support/system.js';
import { waitFor } from '../../../test/support/wait.js';

async function subscribe(sys: TestSystem, t: { after: (fn: () => Promise<void>) => void }) {
  const seen: AnyCloudEvent[] = [];
  const conn = createRedis({ mode: 'standalone', url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  const sub = createEventSubscriber({ redis: conn, keys: createKeys(sys.prefix), types: ['token.*', 'lease.*'], onEvent: (e) => { seen.push(e); } });
  await sub.start();
  t.after(async () => { await sub.close(); await conn.quit(); });
  return seen;
}

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('token.minted, lease.granted/renewed/released and lease.expired reach a subscriber, with no token in them', async (t) => {
  const sys = await startSystem();
  t.after(() => sys.close());
  const seen = await subscribe(sys, t);

  const token = await (await sys.get('/v1/tokens/sales')).json() as Record<string, string>;
  const minted = await waitFor('token.minted', () => seen.find((e) => e.type === 'token.minted'));
  assert.equal(minted.subject, 'sales');
  assert.equal((minted.data as Record<string, unknown>).fingerprint, token.fingerprint);

  const kept = await (await sys.get('/v1/leases', 'app', json({ profile: 'sales', holder: 'kept' }))).json() as Record<string, string>;
  await sys.get(`/v1/leases/${kept.lease_id}/renew`, 'app', { method: 'POST' });
  await sys.get(`/v1/leases/${kept.lease_id}`, 'app', { method: 'DELETE' });
  for (const type of ['lease.granted', 'lease.renewed', 'lease.released']) {
    const e = await waitFor(type, () => seen.find((x) => x.type === type && (x.data as Record<string, unknown>).leaseId === kept.lease_id));
    assert.equal((e.data as Record<string, unknown>).holder, 'kept');
  }

  // A 1 s lease that nobody renews is swept and reported once.
  const short = await (await sys.get('/v1/leases', 'app', json({ profile: 'sales', holder: 'short', ttl_seconds: 1 }))).json() as Record<string, string>;
  await waitFor('lease.expired', () => seen.find((x) => x.type === 'lease.expired' && (x.data as Record<string, unknown>).leaseId === short.lease_id));
  const renew = await sys.get(`/v1/leases/${short.lease_id}/renew`, 'app', { method: 'POST' });
  assert.equal(renew.status, 404);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(seen.filter((x) => x.type === 'lease.expired' && (x.data as Record<string, unknown>).leaseId === short.lease_id).length, 1);

  assert.ok(!JSON.stringify(seen).includes(token.access_token!), 'no event carries the token');
});

test('a revoke under a live lease publishes token.rotated first and revokes the old token only after the grace', async (t) => {
  // A grace long enough that the probe below surely runs inside it, even on a loaded machine.
  const sys = await startSystem({ brokerOverrides: { leases: { defaultTtlSeconds: 60, maxTtlSeconds: 600, graceSeconds: 3, sweepIntervalMs: 200 } } });
  t.after(() => sys.close());
  const seen = await subscribe(sys, t);
  const lease = await (await sys.get('/v1/leases', 'app', json({ profile: 'sales', holder: 'streamer-1', ttl_seconds: 60 }))).json() as Record<string, string>;
  const old = lease.access_token!;
  const probe = (token: string) => fetch(`${sys.sandbox.url}/api/v2/tokens/me`, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);

  const revoking = sys.get('/v1/profiles/sales/token', 'admin', { method: 'DELETE' });
  const rotated = await waitFor('token.rotated', () => seen.find((e) => e.type === 'token.rotated'));
  const statusAtRotation = await probe(old);
  assert.equal((await revoking).status, 204);
  assert.equal(statusAtRotation, 200, 'the old token still worked when token.rotated was published');
  assert.equal((rotated.data as Record<string, unknown>).previousFingerprint, lease.fingerprint);
  assert.equal(await probe(old), 401, 'the old token is revoked after the grace period');
  await waitFor('token.revoked', () => seen.find((e) => e.type === 'token.revoked'));

  // The holder renews and gets the new, working token.
  const renewed = await (await sys.get(`/v1/leases/${lease.lease_id}/renew`, 'app', { method: 'POST' })).json() as Record<string, string>;
  assert.notEqual(renewed.access_token, old);
  assert.equal(await probe(renewed.access_token!), 200);
  const order = seen.map((e) => e.type).filter((x) => x === 'token.rotated' || x === 'token.revoked');
  assert.deepEqual(order.slice(0, 2), ['token.rotated', 'token.revoked']);
});
