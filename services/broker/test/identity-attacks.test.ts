// Every attack on the identity check is answered with its stable code, never a crash. Two real
// oidc-provider issuers on loopback; the forged tokens use their real keys and kids.
import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createLogger } from '@gtb/logger';
import { startIdp, type TestIdp } from '../../../test/fixtures/idp/index.js';
import { epoch, keyConfusionToken, signToken, tamperPayload, unsignedToken } from '../../../test/fixtures/idp/forge.js';
import { idpListSchema, createIdentityVerifier, type IdentityVerifier } from '../src/identity/index.js';

const logger = createLogger({ name: 'test', level: 'silent' });
const SECRET = 'app-secret-0123456789-0123456789-0123456789';
const clients = [{ client_id: 'app1', client_secret: SECRET, scope: 'tokens:read', extraClaims: { groups: ['sales'], roles: ['agent'] } }];

// One pair of IdPs for the file (key generation is the slow part); a fresh verifier per test.
let a: TestIdp;
let b: TestIdp;
before(async () => {
  [a, b] = await Promise.all([startIdp({ clients }), startIdp({ clients })]);
});
after(async () => {
  await Promise.all([a.close(), b.close()]);
});

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const verifier = createIdentityVerifier({
    idps: idpListSchema.parse([a, b].map((idp) => ({ issuer: idp.issuer, audience: idp.audience, allowInsecure: true }))),
    logger,
  });
  t.after(() => verifier.close());
  return { a, b, verifier };
}

async function rejects(verifier: IdentityVerifier, token: string, code: string) {
  await assert.rejects(verifier.verify(token), (err: { code?: string }) => {
    assert.equal(err.code, code);
    return true;
  });
}

const claimsFor = (idp: TestIdp, extra: Record<string, unknown> = {}) => ({
  iss: idp.issuer,
  aud: idp.audience,
  sub: 'app1',
  client_id: 'app1',
  iat: epoch(),
  exp: epoch(300),
  ...extra,
});

test('identity: a real client-credentials token verifies into a normalized identity', async (t) => {
  const { a, b, verifier } = await setup(t);
  assert.equal(await verifier.ready(), true);
  const token = await a.clientCredentialsToken('app1', { scope: 'tokens:read' });
  const identity = await verifier.verify(token);
  assert.equal(identity.issuer, a.issuer);
  assert.equal(identity.subject, 'app1');
  assert.equal(identity.clientId, 'app1');
  assert.deepEqual(identity.groups, ['sales']);
  assert.deepEqual(identity.roles, ['agent']);
  assert.deepEqual(identity.scopes, ['tokens:read']);
  assert.ok(identity.expiresAt > Date.now());
  assert.match(identity.tokenFingerprint, /^[0-9a-f]{12}$/);
  const fromB = await verifier.verify(await b.clientCredentialsToken('app1'));
  assert.equal(fromB.issuer, b.issuer);
});

test('identity: alg none and HS256 key confusion are ERR_IDP_ALG_NOT_ALLOWED', async (t) => {
  const { a, verifier } = await setup(t);
  await rejects(verifier, unsignedToken(claimsFor(a), a.kid), 'ERR_IDP_ALG_NOT_ALLOWED');
  await rejects(verifier, await keyConfusionToken(claimsFor(a), a.publicJwk), 'ERR_IDP_ALG_NOT_ALLOWED');
});

test('identity: expired, not yet valid and issued-in-the-future tokens', async (t) => {
  const { a, verifier } = await setup(t);
  const sign = (extra: Record<string, unknown>) => signToken(claimsFor(a, extra), { key: a.signingKey, kid: a.kid, typ: 'at+jwt' });
  await rejects(verifier, await sign({ iat: epoch(-600), exp: epoch(-120) }), 'ERR_IDP_TOKEN_EXPIRED');
  await rejects(verifier, await sign({ nbf: epoch(600) }), 'ERR_IDP_TOKEN_NOT_YET_VALID');
  await rejects(verifier, await sign({ iat: epoch(600), exp: epoch(900) }), 'ERR_IDP_TOKEN_NOT_YET_VALID');
  // Within the 30 s clock tolerance both ways.
  const edge = await verifier.verify(await sign({ exp: epoch(-10), nbf: epoch(10) }));
  assert.equal(edge.subject, 'app1');
});

test('identity: unknown issuer, wrong audience, missing exp, tampered payload', async (t) => {
  const { a, verifier } = await setup(t);
  // An unknown issuer is answered like any invalid token (identity-token-kind.test.ts has why).
  await rejects(verifier, await signToken(claimsFor(a, { iss: 'https://evil.example' }), { key: a.signingKey, kid: a.kid, typ: 'at+jwt' }), 'ERR_IDP_TOKEN_INVALID');
  await rejects(verifier, await signToken(claimsFor(a, { iss: undefined }), { key: a.signingKey, kid: a.kid, typ: 'at+jwt' }), 'ERR_IDP_TOKEN_INVALID');
  await rejects(verifier, await a.clientCredentialsToken('app1', { resource: 'https://other.example/' }), 'ERR_IDP_TOKEN_INVALID');
  await rejects(verifier, await signToken(claimsFor(a, { exp: undefined }), { key: a.signingKey, kid: a.kid, typ: 'at+jwt' }), 'ERR_IDP_TOKEN_INVALID');
  const real = await a.clientCredentialsToken('app1');
  await rejects(verifier, tamperPayload(real, (c) => { c['groups'] = ['admins']; }), 'ERR_IDP_TOKEN_INVALID');
});

test('identity: cross-issuer tokens fail (signed by B, claiming A)', async (t) => {
  const { a, b, verifier } = await setup(t);
  // B's key and kid, A's issuer: A's key set has no such kid.
  await rejects(verifier, await signToken(claimsFor(a), { key: b.signingKey, kid: b.kid, typ: 'at+jwt' }), 'ERR_IDP_TOKEN_INVALID');
  // B's key under A's kid: the signature does not verify.
  await rejects(verifier, await signToken(claimsFor(a), { key: b.signingKey, kid: a.kid, typ: 'at+jwt' }), 'ERR_IDP_TOKEN_INVALID');
  // A genuine token of B's, presented to a verifier that only trusts A.
  const onlyA = createIdentityVerifier({ idps: idpListSchema.parse([{ issuer: a.issuer, audience: a.audience, allowInsecure: true }]), logger });
  await rejects(onlyA, await b.clientCredentialsToken('app1'), 'ERR_IDP_TOKEN_INVALID');
});

test('identity: unknown kid, oversized and malformed tokens', async (t) => {
  const { a, verifier } = await setup(t);
  await rejects(verifier, await signToken(claimsFor(a), { key: a.signingKey, kid: 'no-such-kid', typ: 'at+jwt' }), 'ERR_IDP_TOKEN_INVALID');
  await rejects(verifier, 'a'.repeat(20 * 1024), 'ERR_IDP_TOKEN_TOO_LARGE');
  const bigClaims = await signToken(claimsFor(a, { padding: 'x'.repeat(20 * 1024) }), { key: a.signingKey, kid: a.kid, typ: 'at+jwt' });
  await rejects(verifier, bigClaims, 'ERR_IDP_TOKEN_TOO_LARGE');
  await rejects(verifier, '', 'ERR_IDP_TOKEN_MISSING');
  await rejects(verifier, 'not a token', 'ERR_IDP_TOKEN_MALFORMED');
  await rejects(verifier, 'eyJ.eyJ.sig', 'ERR_IDP_TOKEN_MALFORMED');
  await rejects(verifier, 'a.b.c.d.e', 'ERR_IDP_TOKEN_MALFORMED');
  // No IdP does introspection here, so an opaque token cannot be checked.
  await rejects(verifier, 'opaque-token-value', 'ERR_IDP_TOKEN_MALFORMED');
  await rejects(verifier, undefined as unknown as string, 'ERR_IDP_TOKEN_MISSING');
});

test('identity: HS256 only with a configured shared secret', async (t) => {
  const { a } = await setup(t);
  const sharedSecret = 's'.repeat(48);
  const verifier = createIdentityVerifier({
    idps: idpListSchema.parse([{ issuer: a.issuer, audience: a.audience, allowInsecure: true, algorithms: ['RS256', 'HS256'], sharedSecret }]),
    logger,
  });
  const hs = await signToken(claimsFor(a), { key: new TextEncoder().encode(sharedSecret), alg: 'HS256', typ: 'at+jwt' });
  assert.equal((await verifier.verify(hs)).subject, 'app1');
  // Key confusion still fails: the RSA public key is not the shared secret.
  await rejects(verifier, await keyConfusionToken(claimsFor(a), a.publicJwk), 'ERR_IDP_TOKEN_INVALID');
  await rejects(verifier, unsignedToken(claimsFor(a)), 'ERR_IDP_ALG_NOT_ALLOWED');
  assert.equal(idpListSchema.safeParse([{ issuer: a.issuer, audience: 'x', allowInsecure: true, algorithms: ['HS256'] }]).success, false);
});

test('identity: claim names for groups and roles are configurable; scp arrays are scopes', async (t) => {
  const { a } = await setup(t);
  const verifier = createIdentityVerifier({
    idps: idpListSchema.parse([{ issuer: a.issuer, audience: a.audience, allowInsecure: true, claims: { groups: 'grp', roles: 'realm_access.roles' }, requiredClaims: ['tid'] }]),
    logger,
  });
  const extra = { grp: ['g1', 7, 'g2'], realm_access: { roles: ['r1'] }, scp: ['s1', 's2'], azp: 'web', tid: 'tenant' };
  const identity = await verifier.verify(await signToken(claimsFor(a, extra), { key: a.signingKey, kid: a.kid, typ: 'at+jwt' }));
  assert.deepEqual(identity.groups, ['g1', 'g2']);
  assert.deepEqual(identity.roles, ['r1']);
  assert.deepEqual(identity.scopes, ['s1', 's2']);
  assert.equal(identity.clientId, 'web');
  assert.equal(identity.claims['tid'], 'tenant');
  await rejects(verifier, await signToken(claimsFor(a), { key: a.signingKey, kid: a.kid, typ: 'at+jwt' }), 'ERR_IDP_TOKEN_INVALID');
});
