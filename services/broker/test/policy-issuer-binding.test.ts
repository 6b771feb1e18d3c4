// Group, role and scope names belong to the IdP that asserts them. With more than one IdP trusted the
// configuration is refused unless every rule names its issuer; with one, a rule without issuer means
// that IdP. Checked once, by the broker configuration schema; a running broker with two IdPs refuses
// the second IdP's `sales-apps` group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '@gtb/config';
import { brokerConfigSchema } from '../src/config.js';
import { startSystem, CLIENTS } from '../../../test/support/system.js';

const ENTRA = 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0';
const OKTA = 'https://example.okta.com/oauth2/default';

/** A broker configuration as a file holds it, with the given IdPs and rules. */
function rawConfig(issuers: string[], rules: unknown[]): Record<string, unknown> {
  return {
    redis: { mode: 'standalone', url: 'redis://127.0.0.1:6379' },
    idps: issuers.map((issuer) => ({ issuer, audience: 'api://gtb-broker' })),
    policy: { rules },
    profiles: [{ name: 'sales', region: 'eu_west_1', clientId: 'client-1', clientSecret: 'secret-1' }],
    encryption: { keys: [{ id: 'k1', key: randomBytes(32).toString('base64') }], primary: 'k1' },
  };
}

const load = (raw: Record<string, unknown>) => loadConfig(brokerConfigSchema, { base: raw, env: {}, envPrefix: 'GTB_BROKER_' });

const unbound = [
  { name: 'admins', match: { issuer: ENTRA, rolesAny: ['gtb-admin'] }, profiles: ['*'], admin: true },
  { name: 'sales-apps', match: { groupsAny: ['sales-apps'] }, profiles: ['sales'] },
  { name: 'readers', match: { scopesAll: ['gtb.read'] }, profiles: ['sales'] },
];

test('two IdPs: a rule without issuer is refused, naming the rule and the setting', () => {
  assert.throws(() => load(rawConfig([ENTRA, OKTA], unbound)), (err: { code?: string; message?: string; details?: { issues: { path: string; message: string }[] } }) => {
    assert.equal(err.code, 'ERR_CONFIG_INVALID');
    assert.match(err.message ?? '', /policy\.rules\.1\.match\.issuer: rule sales-apps must name the issuer/);
    assert.match(err.message ?? '', /policy\.rules\.2\.match\.issuer: rule readers must name the issuer/);
    // The rule that names its issuer is not reported.
    assert.deepEqual(err.details?.issues.map((i) => i.path), ['policy.rules.1.match.issuer', 'policy.rules.2.match.issuer']);
    return true;
  });
});

test('two IdPs: rules naming one issuer, or both explicitly, are accepted and keep their issuer', () => {
  const rules = [
    { name: 'admins', match: { issuer: ENTRA, rolesAny: ['gtb-admin'] }, profiles: ['*'], admin: true },
    { name: 'sales-apps', match: { issuer: [ENTRA, OKTA], groupsAny: ['sales-apps'] }, profiles: ['sales'] },
  ];
  const config = load(rawConfig([ENTRA, OKTA], rules));
  assert.deepEqual(config.policy.rules.map((r) => r.match.issuer), [ENTRA, [ENTRA, OKTA]]);
});

test('one IdP: a rule without issuer is accepted (it can only mean that IdP)', () => {
  const config = load(rawConfig([ENTRA], unbound));
  assert.deepEqual(config.policy.rules.map((r) => r.name), ['admins', 'sales-apps', 'readers']);
});

test('a rule naming an issuer that is not configured is refused (it could never match)', () => {
  const rules = [{ name: 'typo', match: { issuer: `${ENTRA}/`, groupsAny: ['sales-apps'] }, profiles: ['sales'] }];
  assert.throws(() => load(rawConfig([ENTRA], rules)), (err: { code?: string; message?: string }) => {
    assert.equal(err.code, 'ERR_CONFIG_INVALID');
    assert.match(err.message ?? '', /policy\.rules\.0\.match\.issuer: rule typo names issuer .* not one of the configured idps/);
    return true;
  });
});

test('a broker trusting two IdPs refuses the second IdP\'s sales-apps group', async (t) => {
  const sys = await startSystem();
  t.after(() => sys.close());
  const fromFirst = await sys.get('/v1/tokens/sales', 'app');
  assert.equal(fromFirst.status, 200);
  const foreign = await sys.otherIdp.clientCredentialsToken(CLIENTS.app.client_id);
  const fromSecond = await fetch(`${sys.broker.url}/v1/tokens/sales`, { headers: { authorization: `Bearer ${foreign}` } });
  assert.equal(fromSecond.status, 403);
  assert.equal(((await fromSecond.json()) as { code?: string }).code, 'ERR_PROFILE_NOT_ALLOWED');
});
