import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GtbError } from '@gtb/errors';
import { waitFor } from '../../../test/support/wait.js';
import { createBrokerClient, createLeaseHelper, type BrokerToken } from '../src/index.js';
import { startSystem } from './system-harness.js';

test('lease helper: acquire, renew in the background, notice a rotation, release on stop', async (t) => {
  const sys = await startSystem(t);
  const ops = createBrokerClient({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('ops') });
  const tokens: { token: BrokerToken; rotated: boolean }[] = [];
  const helper = createLeaseHelper({
    url: sys.broker.url, getIdentityToken: () => sys.tokenFor('app'),
    profile: 'sales', holder: 'lease-test/1', ttlSeconds: 2,
    onToken: (token, { rotated }) => void tokens.push({ token, rotated }),
  });
  t.after(() => helper.stop());
  const lease = await helper.start();
  assert.equal(tokens.length, 1);
  assert.equal(tokens[0]!.rotated, false);
  assert.equal(helper.current()?.leaseId, lease.leaseId);
  assert.deepEqual((await ops.listLeases()).map((l) => l.holder), ['lease-test/1']);

  // Renewals happen at renew_after (1 s into a 2 s lease): the lease outlives its first TTL.
  const firstExpiry = lease.leaseExpiresAt;
  await waitFor('a renewal', () => (helper.current()?.leaseExpiresAt ?? 0) > firstExpiry, { intervalMs: 20 });

  const rotated = await ops.rotate('sales');
  await waitFor('the rotated token via renewal', () => tokens.find((x) => x.token.fingerprint === rotated.fingerprint), { intervalMs: 20 });
  assert.equal(tokens.at(-1)!.rotated, true);

  await helper.stop();
  assert.equal(helper.current(), undefined);
  assert.deepEqual(await ops.listLeases(), [], 'released');
});

test('lease helper: a lease removed behind its back is reported lost, then re-acquired', async (t) => {
  const sys = await startSystem(t);
  const ops = createBrokerClient({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('ops') });
  const lost: GtbError[] = [];
  const helper = createLeaseHelper({
    brokerClient: createBrokerClient({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('app') }),
    profile: 'sales', holder: 'lease-test/2', ttlSeconds: 2, retryMs: 50, maxRetryMs: 200,
    onToken: () => {},
    onLost: (e) => lost.push(e),
  });
  t.after(() => helper.stop());
  const lease = await helper.start();
  await ops.releaseLease(lease.leaseId); // an admin may release any lease
  await waitFor('the loss to be reported', () => lost.length === 1, { intervalMs: 20 });
  assert.equal(lost[0]!.code, 'ERR_LEASE_LOST');
  const again = await waitFor('re-acquisition', () => helper.current(), { intervalMs: 20 });
  assert.notEqual(again.leaseId, lease.leaseId);
});

test('lease helper: renewNow renews at once, hands a rotated token over first, and acquires anew when the lease is gone', async (t) => {
  const sys = await startSystem(t);
  const ops = createBrokerClient({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('ops') });
  const tokens: { fingerprint: string; rotated: boolean }[] = [];
  const lost: GtbError[] = [];
  const helper = createLeaseHelper({
    url: sys.broker.url, getIdentityToken: () => sys.tokenFor('app'),
    profile: 'sales', holder: 'lease-test/3', ttlSeconds: 60, // no background renewal during the test
    onToken: (token, { rotated }) => void tokens.push({ fingerprint: token.fingerprint, rotated }),
    onLost: (e) => lost.push(e),
  });
  t.after(() => helper.stop());
  await assert.rejects(helper.renewNow(), (err: GtbError) => err.code === 'ERR_CONFIG_INVALID', 'not started');
  const first = await helper.start();

  // Concurrent calls share one renewal; the lease is extended (broker clock, whole seconds).
  const [a, b] = await Promise.all([helper.renewNow(), helper.renewNow()]);
  assert.equal(a, b);
  assert.equal(a.leaseId, first.leaseId);
  assert.ok(a.leaseExpiresAt >= first.leaseExpiresAt);

  const rotated = await ops.rotate('sales');
  const renewed = await helper.renewNow();
  assert.equal(renewed.token.fingerprint, rotated.fingerprint);
  assert.deepEqual(tokens.at(-1), { fingerprint: rotated.fingerprint, rotated: true }, 'onToken ran before renewNow resolved');

  await ops.releaseLease(renewed.leaseId);
  const again = await helper.renewNow();
  assert.notEqual(again.leaseId, renewed.leaseId);
  assert.equal(lost.length, 1);
  assert.equal(lost[0]!.code, 'ERR_LEASE_LOST');
  assert.deepEqual((await ops.listLeases()).map((l) => l.leaseId), [again.leaseId], 'one lease held, no stray second one');
  await helper.stop();
  assert.deepEqual(await ops.listLeases(), [], 'released');
});

test('lease helper: start fails with the broker error; options are checked', async (t) => {
  const sys = await startSystem(t);
  const helper = createLeaseHelper({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('app'), profile: 'support', holder: 'x', onToken: () => {} });
  await assert.rejects(helper.start(), (err: GtbError) => err.code === 'ERR_PROFILE_NOT_ALLOWED');
  assert.throws(() => createLeaseHelper({ profile: 'sales', holder: 'x', onToken: () => {} }), (err: GtbError) => err.code === 'ERR_CONFIG_INVALID');
  assert.throws(() => createLeaseHelper({ url: sys.broker.url, getIdentityToken: async () => 'x', profile: 'sales', holder: 'x' } as never), (err: GtbError) => err.code === 'ERR_CONFIG_INVALID');
});
