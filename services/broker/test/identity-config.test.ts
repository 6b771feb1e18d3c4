// bearerToken() and the IdP configuration schema: bad input gets a stable code.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createLogger } from '@gtb/logger';
import { bearerToken, createIdentityVerifier, idpConfigSchema, idpListSchema } from '../src/identity/index.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

test('bearerToken: extracts the token or throws MISSING / MALFORMED', () => {
  assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
  assert.equal(bearerToken('bearer  tok-en_1~+/=='), 'tok-en_1~+/==');
  assert.equal(codeOf(() => bearerToken(undefined)), 'ERR_IDP_TOKEN_MISSING');
  assert.equal(codeOf(() => bearerToken('')), 'ERR_IDP_TOKEN_MISSING');
  assert.equal(codeOf(() => bearerToken(null)), 'ERR_IDP_TOKEN_MISSING');
  assert.equal(codeOf(() => bearerToken('Basic dXNlcjpwYXNz')), 'ERR_IDP_TOKEN_MALFORMED');
  assert.equal(codeOf(() => bearerToken('Bearer')), 'ERR_IDP_TOKEN_MALFORMED');
  assert.equal(codeOf(() => bearerToken('Bearer a b')), 'ERR_IDP_TOKEN_MALFORMED');
  assert.equal(codeOf(() => bearerToken('Bearer a"b')), 'ERR_IDP_TOKEN_MALFORMED');
  assert.equal(codeOf(() => bearerToken(['Bearer a', 'Bearer b'])), 'ERR_IDP_TOKEN_MALFORMED');
});

test('idpConfigSchema: defaults, and unsafe settings refused', () => {
  const idp = idpConfigSchema.parse({ issuer: 'https://login.example.com/tenant/v2.0', audience: 'api://gtb' });
  assert.deepEqual(idp.algorithms, ['RS256', 'PS256', 'ES256', 'EdDSA']);
  assert.equal(idp.clockToleranceSec, 30);
  assert.equal(idp.maxTokenBytes, 8192);
  assert.deepEqual(idp.claims, { groups: 'groups', roles: 'roles' });
  assert.equal(idp.allowInsecure, false);
  const bad = [
    { issuer: 'https://x.example', audience: 'a', algorithms: ['none'] },
    { issuer: 'https://x.example', audience: 'a', algorithms: ['HS256'] },
    { issuer: 'https://x.example', audience: 'a', algorithms: ['HS256'], sharedSecret: 'short' },
    { issuer: 'http://x.example', audience: 'a' },
    { issuer: 'https://x.example' },
    { issuer: 'https://x.example', audience: 'a', unknownSetting: 1 },
    { issuer: 'not a url', audience: 'a' },
  ];
  for (const input of bad) assert.equal(idpConfigSchema.safeParse(input).success, false, JSON.stringify(input));
  assert.equal(idpConfigSchema.safeParse({ issuer: 'http://127.0.0.1:1', audience: 'a', allowInsecure: true }).success, true);
  const dup = idpListSchema.safeParse([{ issuer: 'https://x.example', audience: 'a' }, { issuer: 'https://x.example', audience: 'b' }]);
  assert.equal(dup.success, false);
});

test('brokerConfigSchema is the one validation of the IdP list: a bad IdP names the setting', () => {
  const result = idpListSchema.safeParse([{ issuer: 'https://x.example', audience: 'a', algorithms: ['HS512'] }]);
  assert.equal(result.success, false);
  assert.deepEqual(result.error?.issues[0]?.path, [0, 'algorithms']);
  assert.equal(idpListSchema.safeParse([]).success, false);
  // The verifier takes the validated list as it is (it has no schema of its own to disagree with).
  const logger = createLogger({ name: 'test', level: 'silent' });
  const idps = idpListSchema.parse([{ issuer: 'https://x.example', audience: 'a' }]);
  assert.doesNotThrow(() => createIdentityVerifier({ idps, logger }));
});
