// Security hole 1: renewing a lease hands out a Genesys token, so the policy must decide again at
// that moment; admin rights manage leases but never read tokens of profiles the rule does not grant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startReplica, startSystem, type TestSystem } from '../../../test/support/system.js';

type Rule = { name: string; profiles: string[]; admin?: boolean };

/** A second replica on the same Redis, with the same configuration but the policy rules changed by `edit`. */
async function replicaWithRules(t: { after(fn: () => Promise<void>): void }, sys: TestSystem, edit: (rule: Rule) => Rule) {
  const { policy } = structuredClone(sys.rawConfig) as { policy: { rules: Rule[] } };
  const broker = await startReplica(sys, { policy: { ...policy, rules: policy.rules.map(edit) } });
  t.after(() => broker.stop());
  return broker;
}

async function grantLease(sys: TestSystem, client: 'app' | 'admin') {
  const res = await sys.get('/v1/leases', client, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ profile: 'sales', holder: 'renew-test' }) });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json() as { lease_id: string }).lease_id;
}

async function renew(url: string, sys: TestSystem, id: string, client: 'app' | 'admin') {
  return fetch(`${url}/v1/leases/${id}/renew`, { method: 'POST', headers: { authorization: `Bearer ${await sys.tokenFor(client)}` } });
}

test('a caller the policy no longer grants cannot renew its lease into a new token', async (t) => {
  const sys = await startSystem();
  t.after(() => sys.close());
  const id = await grantLease(sys, 'app');
  assert.equal((await renew(sys.broker.url, sys, id, 'app')).status, 200, 'renewal works while the policy grants the profile');

  // The same caller, after its group lost the profile (a replica started with the new policy).
  const revoked = await replicaWithRules(t, sys, (r) => (r.name === 'sales-apps' ? { ...r, profiles: ['another-profile'] } : r));
  const res = await renew(revoked.url, sys, id, 'app');
  assert.equal(res.status, 403);
  const body = await res.json() as Record<string, unknown>;
  assert.equal(body.code, 'ERR_PROFILE_NOT_ALLOWED');
  assert.equal(body.access_token, undefined);
});

test('an admin-only rule manages leases but cannot renew one into a token of a profile it is not granted', async (t) => {
  const sys = await startSystem();
  t.after(() => sys.close());
  const id = await grantLease(sys, 'app');
  const adminOnly = await replicaWithRules(t, sys, (r) => (r.admin ? { ...r, profiles: [] } : r));
  const adminToken = await sys.tokenFor('admin');

  const res = await renew(adminOnly.url, sys, id, 'admin');
  assert.equal(res.status, 403, 'no token for a profile the admin rule does not grant');
  assert.equal((await res.json() as Record<string, unknown>).code, 'ERR_PROFILE_NOT_ALLOWED');

  // Admin rights still mean managing leases: list them and release one.
  const list = await fetch(`${adminOnly.url}/v1/leases`, { headers: { authorization: `Bearer ${adminToken}` } });
  assert.equal(list.status, 200);
  const listed = await list.json() as { leases: Record<string, unknown>[] };
  assert.ok(listed.leases.some((l) => l.lease_id === id));
  assert.ok(listed.leases.every((l) => l.access_token === undefined), 'a lease list carries no token');
  const released = await fetch(`${adminOnly.url}/v1/leases/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}` } });
  assert.equal(released.status, 204);
});
