// The growth scenario's configurations (scenarios/growth.ts): valid broker configurations whose
// policy makes the benchmark's caller (a `sales-apps` token of the last IdP) walk every rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brokerConfigSchema } from '../../../services/broker/src/config.js';
import { createPolicy } from '../../../services/broker/src/policy/index.js';
import { memoryLogger, brokerConfigFor } from '../../support/system.js';
import { growthBrokerConfig, growthPlan, growthRows, profileName } from '../scenarios/growth.js';

const issuers = ['http://127.0.0.1:1/a', 'http://127.0.0.1:2/b', 'http://127.0.0.1:3/c'];
const clients = Array.from({ length: 5 }, (_x, i) => ({ name: profileName(i), clientId: `id-${i}`, clientSecret: `secret-${i}` }));
const base = () => brokerConfigFor({ prefix: 'growth-test', sandboxUrl: 'http://127.0.0.1:9', issuers: [issuers[0]!], audience: 'api://gtb-broker', clients: [clients[0]!] });

test('the plan: the profile series on one IdP, then the IdP series on the first profile count, without repeating the baseline', () => {
  assert.deepEqual(growthPlan({ profileCounts: [1, 10, 500], idpCounts: [1, 3, 10] }).map((c) => [c.profiles, c.idps, c.primed]), [[1, 1, 1], [10, 1, 10], [500, 1, 500], [1, 3, 1], [1, 10, 1], [500, 1, 1]]);
  assert.equal(growthPlan({ profileCounts: [1], idpCounts: [1] })[0]!.name, '1 profile, 1 IdP');
});

test('the rows: each broker under load on all its primed profiles, then the largest profile count again with the load on one', () => {
  const rows = growthRows(growthPlan({ profileCounts: [1, 10, 500], idpCounts: [1, 3] }));
  assert.deepEqual(rows.map((r) => [r.broker, r.loadProfiles]), [[0, 1], [1, 10], [2, 500], [3, 1], [4, 1], [2, 1]]);
  assert.deepEqual(rows.slice(-2).map((r) => r.name), ['500 profiles, 1 IdP, 1 primed', '500 profiles, 1 IdP, load on 1']);
  assert.equal(growthRows(growthPlan({ profileCounts: [1], idpCounts: [1, 3] })).length, 2, 'no extra rows without several profiles');
});

test('a configuration with several profiles and IdPs passes the broker schema, with production lease sweeps', () => {
  const raw = growthBrokerConfig(base(), { clients, issuers, audience: 'api://gtb-broker' });
  const config = brokerConfigSchema.parse(raw);
  assert.deepEqual(config.profiles.map((p) => [p.name, p.clientId]), clients.map((c) => [c.name, c.clientId]));
  assert.deepEqual(config.idps.map((i) => i.issuer), issuers);
  assert.equal(config.leases.sweepIntervalMs, 1000, 'the tests\' 200 ms sweep is not kept');
  assert.deepEqual(config.policy.rules.map((r) => r.name), ['admins', 'apps-1', 'apps-2', 'apps-3']);
});

test('the caller from the last IdP is granted by the last rule only, for every profile, and by no rule for an unknown one', () => {
  const config = brokerConfigSchema.parse(growthBrokerConfig(base(), { clients, issuers, audience: 'api://gtb-broker' }));
  const policy = createPolicy(config.policy, { logger: memoryLogger('silent').logger });
  const caller = { issuer: issuers[2]!, subject: 'client:demo-app', clientId: 'demo-app', groups: ['sales-apps'], roles: [], scopes: [] };
  for (const c of clients) assert.deepEqual(policy.evaluate(caller, c.name), { allowed: true, rule: 'apps-3', reason: `rule apps-3 grants ${c.name}` });
  const firstIdp = { ...caller, issuer: issuers[0]! };
  assert.equal(policy.evaluate(firstIdp, clients[0]!.name).rule, 'apps-1');
  assert.equal(policy.evaluate(caller, 'growth-999').allowed, false);
});
