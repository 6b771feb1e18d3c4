// The verified-token cache (no second signature check, never past exp) and the opaque-token path
// through RFC 7662 introspection at a real oidc-provider, with its caching.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { createLogger } from '@gtb/logger';
import { startIdp } from '../../../test/fixtures/idp/index.js';
import { epoch, signToken } from '../../../test/fixtures/idp/forge.js';
import { identityCacheSchema, idpListSchema, createIdentityVerifier } from '../src/identity/index.js';
import { codeOf } from './identity-helpers.js';

const logger = createLogger({ name: 'test', level: 'silent' });
const SECRET = 'app-secret-0123456789-0123456789-0123456789';
const BROKER_SECRET = 'broker-secret-0123456789-0123456789-012345';
const clients = [
  { client_id: 'app1', client_secret: SECRET, scope: 'tokens:read', extraClaims: { groups: ['sales'], roles: ['agent'] } },
  { client_id: 'broker', client_secret: BROKER_SECRET },
];

test('identity cache: the same token is verified once, then served from cache until exp', async (t) => {
  const idp = await startIdp({ clients, accessTokenTtl: 120 });
  t.after(() => idp.close());
  let clock = Date.now();
  const verifier = createIdentityVerifier({
    idps: idpListSchema.parse([{ issuer: idp.issuer, audience: idp.audience, allowInsecure: true }]),
    logger,
    now: () => clock,
  });
  const token = await idp.clientCredentialsToken('app1');
  const first = await verifier.verify(token);
  const again = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
  for (const identity of again) assert.equal(identity, first);
  assert.equal(verifier.stats().jwtVerifications, 1);
  assert.equal(verifier.stats().cacheHits, 20);
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first.groups), 'cached identities are immutable');
  // Concurrent first use of a new token also verifies once.
  const other = await idp.clientCredentialsToken('app1');
  await Promise.all(Array.from({ length: 10 }, () => verifier.verify(other)));
  assert.equal(verifier.stats().jwtVerifications, 2);
  // Past exp (+ tolerance) the cache does not answer: the token is checked again and is expired.
  clock = first.expiresAt + 31_000;
  assert.equal(await codeOf(verifier.verify(token)), 'ERR_IDP_TOKEN_EXPIRED');
  assert.equal(verifier.stats().jwtVerifications, 3);
});

test('identity cache: a bounded cache evicts; rejections are remembered briefly', async (t) => {
  const idp = await startIdp({ clients });
  t.after(() => idp.close());
  const verifier = createIdentityVerifier({ idps: idpListSchema.parse([{ issuer: idp.issuer, audience: idp.audience, allowInsecure: true }]), logger, cache: identityCacheSchema.parse({ verifiedMax: 2 }) });
  const sign = (sub: string) =>
    signToken({ iss: idp.issuer, aud: idp.audience, sub, iat: epoch(), exp: epoch(300) }, { key: idp.signingKey, kid: idp.kid, typ: 'at+jwt' });
  const [t1, t2, t3] = await Promise.all([sign('1'), sign('2'), sign('3')]);
  for (const tok of [t1!, t2!, t3!]) await verifier.verify(tok);
  await verifier.verify(t3!);
  assert.equal(verifier.stats().cacheHits, 1);
  await verifier.verify(t1!); // evicted by t3: verified again
  assert.equal(verifier.stats().jwtVerifications, 4);
  const bad = await signToken({ iss: idp.issuer, aud: 'wrong', sub: 'x', exp: epoch(300) }, { key: idp.signingKey, kid: idp.kid, typ: 'at+jwt' });
  assert.equal(await codeOf(verifier.verify(bad)), 'ERR_IDP_TOKEN_INVALID');
  assert.equal(await codeOf(verifier.verify(bad)), 'ERR_IDP_TOKEN_INVALID');
  // The second answer came from the rejected-token cache (identity-token-kind.test.ts covers its expiry).
  assert.equal(verifier.stats().jwtVerifications, 5);
  assert.equal(verifier.stats().rejectedHits, 1);
});

test('identity introspection: opaque tokens, active and inactive, cached until exp', async (t) => {
  const idp = await startIdp({ clients, accessTokenTtl: 120 });
  t.after(() => idp.close());
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  let clock = Date.now();
  const verifier = createIdentityVerifier({
    idps: idpListSchema.parse([{ issuer: idp.issuer, audience: idp.audience, allowInsecure: true, introspection: { clientId: 'broker', clientSecret: BROKER_SECRET } }]),
    logger: createLogger({ name: 'test', level: 'debug', destination: sink }),
    now: () => clock,
  });
  const opaque = await idp.opaqueToken('app1', { scope: 'tokens:read' });
  assert.equal(opaque.split('.').length, 1);
  const identity = await verifier.verify(opaque);
  assert.equal(identity.issuer, idp.issuer);
  // A client-credentials answer names no `sub`: the principal is the client.
  assert.equal(identity.principal, 'client');
  assert.equal(identity.subject, 'client:app1');
  assert.equal(identity.clientId, 'app1');
  assert.deepEqual(identity.groups, ['sales']);
  assert.deepEqual(identity.scopes, ['tokens:read']);
  const calls = idp.counts.introspection;
  assert.equal(calls, 1);
  await verifier.verify(opaque);
  assert.equal(idp.counts.introspection, calls, 'second use answered from cache');
  // An unknown opaque token is inactive.
  assert.equal(await codeOf(verifier.verify('x'.repeat(43))), 'ERR_IDP_TOKEN_INVALID');
  // JWTs of the same IdP still go through signature verification, not introspection.
  const before = idp.counts.introspection;
  await verifier.verify(await idp.clientCredentialsToken('app1'));
  assert.equal(idp.counts.introspection, before);
  // Past its exp, the cached answer is not used and the token is expired.
  clock = identity.expiresAt + 31_000;
  assert.equal(await codeOf(verifier.verify(opaque)), 'ERR_IDP_TOKEN_EXPIRED');
  // No token ever reaches the log.
  const log = lines.join('');
  assert.ok(!log.includes(opaque), 'opaque token logged');
});

test('identity introspection: wrong broker credentials or an unreachable endpoint are ERR_IDP_UNAVAILABLE', async (t) => {
  const idp = await startIdp({ clients });
  t.after(() => idp.close());
  const verifier = createIdentityVerifier({
    idps: idpListSchema.parse([{ issuer: idp.issuer, audience: idp.audience, allowInsecure: true, introspection: { clientId: 'broker', clientSecret: 'wrong-secret' } }]),
    logger,
  });
  const opaque = await idp.opaqueToken('app1');
  assert.equal(await codeOf(verifier.verify(opaque)), 'ERR_IDP_UNAVAILABLE');
  const ok = createIdentityVerifier({
    idps: idpListSchema.parse([{ issuer: idp.issuer, audience: idp.audience, allowInsecure: true, introspection: { clientId: 'broker', clientSecret: BROKER_SECRET, authMethod: 'client_secret_post' } }]),
    logger,
  });
  assert.equal(await ok.ready(), true);
  idp.setUnavailable(true);
  assert.equal(await codeOf(ok.verify(opaque)), 'ERR_IDP_UNAVAILABLE');
  idp.setUnavailable(false);
  assert.equal((await ok.verify(opaque)).clientId, 'app1');
});

test('identity introspection: a token for another audience is rejected', async (t) => {
  const idp = await startIdp({ clients, audience: 'api://someone-else' });
  t.after(() => idp.close());
  const verifier = createIdentityVerifier({
    idps: idpListSchema.parse([{ issuer: idp.issuer, audience: 'api://gtb-broker', allowInsecure: true, introspection: { clientId: 'broker', clientSecret: BROKER_SECRET } }]),
    logger,
  });
  assert.equal(await codeOf(verifier.verify(await idp.opaqueToken('app1'))), 'ERR_IDP_TOKEN_INVALID');
});
