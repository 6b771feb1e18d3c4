// The access policy: default deny, each rule field, admin, and exactly one audit line per decision
// carrying the reason (never a token). createPolicy takes the validated configuration: the tests
// parse with policyConfigSchema first, as brokerConfigSchema does for the broker.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { createLogger } from '@gtb/logger';
import { createPolicy as createPolicyFromConfig, policyConfigSchema, type PolicyConfigInput, type PolicyDeps, type PolicySubject } from '../src/policy/index.js';

const A = 'https://idp-a.example';
const B = 'https://idp-b.example';

function auditSink() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { lines, raw, logger: createLogger({ name: 'test', level: 'info', destination }) };
}

const who = (over: Partial<PolicySubject> = {}): PolicySubject => ({
  issuer: A,
  subject: 'user-1',
  clientId: 'app-1',
  groups: [],
  roles: [],
  scopes: [],
  tokenFingerprint: 'abcdef012345',
  ...over,
});

/** The policy from a configuration as a file holds it, validated the way the broker's loader does. */
const createPolicy = (input: PolicyConfigInput, deps: PolicyDeps) => createPolicyFromConfig(policyConfigSchema.parse(input), deps);

const config: PolicyConfigInput = {
  rules: [
    { name: 'sales-team', match: { issuer: A, groupsAny: ['sales', 'sales-eu'] }, profiles: ['sales'] },
    { name: 'support-role', match: { rolesAny: ['support'] }, profiles: ['support', 'sales'] },
    { name: 'reporting-app', match: { issuer: B, clientId: 'reporter' }, profiles: ['*'] },
    { name: 'scoped', match: { issuer: A, scopesAll: ['gtb.read', 'gtb.write'] }, profiles: ['ops'] },
    { name: 'one-person', match: { issuer: [A, B], subject: 'alice' }, profiles: ['vip'] },
    { name: 'admins', match: { issuer: A, groupsAny: ['gtb-admins'] }, admin: true },
  ],
};

test('policy: default deny with no rules, and a reason in the audit line only', () => {
  const { lines, logger } = auditSink();
  const policy = createPolicy({ rules: [] }, { logger });
  const decision = policy.decide(who(), 'sales');
  assert.equal(decision.allowed, false);
  assert.equal(decision.rule, undefined);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!['audit'], true);
  assert.equal(lines[0]!['allowed'], false);
  assert.equal(lines[0]!['reason'], 'no rules configured');
  assert.deepEqual(policy.isAdmin(who()), { allowed: false, reason: 'no rules configured' });
  assert.equal(lines.length, 2);
});

test('policy: each rule field decides', () => {
  const { logger } = auditSink();
  const policy = createPolicy(config, { logger });
  const allowed = (w: PolicySubject, profile: string) => policy.decide(w, profile);
  // groupsAny (+ issuer)
  assert.deepEqual(allowed(who({ groups: ['sales-eu'] }), 'sales'), { allowed: true, rule: 'sales-team', reason: 'rule sales-team grants sales' });
  assert.equal(allowed(who({ groups: ['sales'] }), 'support').allowed, false);
  assert.equal(allowed(who({ issuer: B, groups: ['sales'] }), 'sales').allowed, false);
  // rolesAny, any issuer
  assert.equal(allowed(who({ issuer: B, roles: ['support'] }), 'support').rule, 'support-role');
  assert.equal(allowed(who({ roles: ['supporter'] }), 'support').allowed, false);
  // clientId + issuer, wildcard profile
  assert.equal(allowed(who({ issuer: B, clientId: 'reporter' }), 'anything').rule, 'reporting-app');
  assert.equal(allowed(who({ issuer: A, clientId: 'reporter' }), 'anything').allowed, false);
  assert.equal(allowed(who({ issuer: B, clientId: undefined, subject: 'reporter' }), 'anything').allowed, false);
  // scopesAll needs every scope
  assert.equal(allowed(who({ scopes: ['gtb.read', 'gtb.write', 'x'] }), 'ops').rule, 'scoped');
  assert.equal(allowed(who({ scopes: ['gtb.read'] }), 'ops').allowed, false);
  // subject with an issuer list
  assert.equal(allowed(who({ issuer: B, subject: 'alice' }), 'vip').rule, 'one-person');
  assert.equal(allowed(who({ subject: 'alice2' }), 'vip').allowed, false);
  // first matching rule that grants the profile wins
  assert.equal(allowed(who({ groups: ['sales'], roles: ['support'] }), 'sales').rule, 'sales-team');
  assert.equal(allowed(who({ groups: ['sales'], roles: ['support'] }), 'support').rule, 'support-role');
});

test('policy: admin only through an admin rule', () => {
  const { lines, logger } = auditSink();
  const policy = createPolicy(config, { logger });
  assert.deepEqual(policy.isAdmin(who({ groups: ['gtb-admins'] })), { allowed: true, rule: 'admins', reason: 'rule admins grants admin' });
  // Matching a non-admin rule (even with '*' profiles) is not admin.
  assert.equal(policy.isAdmin(who({ issuer: B, clientId: 'reporter' })).allowed, false);
  assert.equal(policy.isAdmin(who({ issuer: B, groups: ['gtb-admins'] })).allowed, false);
  // An admin rule without profiles grants no profile.
  assert.equal(policy.decide(who({ groups: ['gtb-admins'] }), 'sales').allowed, false);
  const last = lines.at(-1)!;
  assert.equal(last['action'], 'profile');
  assert.match(String(last['reason']), /admins \(profile\)/);
  assert.match(String(last['reason']), /sales-team \(groupsAny\)/);
});

test('policy: exactly one audit line per decision, with who and why, never a token', () => {
  const { lines, raw, logger } = auditSink();
  const policy = createPolicy(config, { logger });
  const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
  const identity = { ...who({ groups: ['sales'] }), claims: { raw: token } } as PolicySubject;
  policy.decide(identity, 'sales');
  policy.decide(identity, 'ops');
  policy.isAdmin(identity);
  policy.decide(identity, 'vip');
  assert.equal(lines.length, 4);
  for (const line of lines) {
    assert.equal(line['audit'], true);
    assert.equal(line['issuer'], A);
    assert.equal(line['subject'], 'user-1');
    assert.equal(line['clientId'], 'app-1');
    assert.equal(typeof line['allowed'], 'boolean');
    assert.equal(typeof line['reason'], 'string');
  }
  assert.deepEqual(lines.map((l) => [l['action'], l['profile'], l['allowed'], l['rule']]), [
    ['profile', 'sales', true, 'sales-team'],
    ['profile', 'ops', false, undefined],
    ['admin', undefined, false, undefined],
    ['profile', 'vip', false, undefined],
  ]);
  assert.ok(raw.every((line) => !line.includes(token)), 'token in audit log');
});

test('policyConfigSchema: refuses rules that would be too broad or ambiguous', () => {
  const bad: unknown[] = [
    { rules: [{ name: 'everyone', match: {}, profiles: ['*'] }] },
    { rules: [{ name: 'sub-only', match: { subject: 'alice' }, profiles: ['x'] }] },
    { rules: [{ name: 'client-only', match: { clientId: 'app' }, profiles: ['x'] }] },
    { rules: [{ name: 'nothing', match: { issuer: A } }] },
    { rules: [{ name: 'dup', match: { issuer: A }, profiles: ['x'] }, { name: 'dup', match: { issuer: B }, profiles: ['y'] }] },
    { rules: [{ name: 'typo', match: { group: ['x'] }, profiles: ['x'] }] },
    { rules: [{ name: 'empty', match: { groupsAny: [] }, profiles: ['x'] }] },
  ];
  for (const input of bad) assert.equal(policyConfigSchema.safeParse(input).success, false, JSON.stringify(input));
  assert.deepEqual(policyConfigSchema.parse({}), { rules: [] });
});
