// What kind of token the verifier accepts, and from whom: the JOSE `typ` (RFC 9068 access tokens
// by default, never security events), ID tokens only where allowed, the OAuth client allow-list,
// principals that cannot collide when `sub` is missing, an unknown issuer that looks like any
// invalid token from outside, and the short cache of rejected tokens. One real oidc-provider; the
// hand-made tokens are signed with its own key and kid.
import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createLogger } from '@gtb/logger';
import { startIdp, type TestIdp } from '../../../test/fixtures/idp/index.js';
import { epoch, signToken, unsignedToken } from '../../../test/fixtures/idp/forge.js';
import { createIdentityVerifier, identityCacheSchema, idpListSchema, type IdpConfigInput } from '../src/identity/index.js';
import { createPolicy } from '../src/policy/index.js';
import { policyConfigSchema } from '../src/policy/policy-config.js';

const logger = createLogger({ name: 'test', level: 'silent' });
const clients = [{ client_id: 'app1', client_secret: 'app-secret-0123456789-0123456789-0123456789', scope: 'tokens:read' }];

let idp: TestIdp;
before(async () => {
  idp = await startIdp({ clients });
});
after(() => idp.close());

/** A verifier for the test IdP; `settings` are this IdP's extra settings, validated by the one schema. */
function verifierWith(t: { after: (fn: () => Promise<void>) => void }, settings: Partial<IdpConfigInput> = {}, extra: { now?: () => number; cache?: Record<string, number> } = {}) {
  const idps = idpListSchema.parse([{ issuer: idp.issuer, audience: idp.audience, allowInsecure: true, ...settings }]);
  const { cache, ...rest } = extra;
  const verifier = createIdentityVerifier({ idps, logger, ...rest, ...(cache ? { cache: identityCacheSchema.parse(cache) } : {}) });
  t.after(() => verifier.close());
  return verifier;
}

const claims = (extra: Record<string, unknown> = {}) => ({ iss: idp.issuer, aud: idp.audience, sub: 'app1', client_id: 'app1', iat: epoch(), exp: epoch(300), ...extra });
const sign = (extra: Record<string, unknown> = {}, typ?: string) =>
  signToken(claims(extra), { key: idp.signingKey, kid: idp.kid, ...(typ === undefined ? {} : { typ }) });

interface Rejection { code?: string; status?: number; message?: string; details?: { reason?: unknown } }
async function rejection(promise: Promise<unknown>): Promise<Rejection> {
  try {
    await promise;
  } catch (err) {
    return err as Rejection;
  }
  assert.fail('expected a rejection');
}
async function rejects(promise: Promise<unknown>, code: string, reason: string) {
  const err = await rejection(promise);
  assert.equal(err.code, code);
  assert.equal(err.details?.reason, reason);
}

test('token type: by default only RFC 9068 at+jwt; security events and other typ values never', async (t) => {
  const verifier = verifierWith(t);
  // The IdP's own JWT access tokens are at+jwt.
  assert.equal((await verifier.verify(await idp.clientCredentialsToken('app1'))).clientId, 'app1');
  assert.equal((await verifier.verify(await sign({ jti: 'media-type' }, 'application/at+jwt'))).subject, 'app1');
  await rejects(verifier.verify(await sign({ events: { 'https://schemas.openid.net/secevent/risc/event-type/account-disabled': {} } }, 'secevent+jwt')), 'ERR_IDP_TOKEN_TYPE', 'type');
  await rejects(verifier.verify(await sign({}, 'JWT')), 'ERR_IDP_TOKEN_TYPE', 'type');
  await rejects(verifier.verify(await sign({})), 'ERR_IDP_TOKEN_TYPE', 'type');
  await rejects(verifier.verify(await sign({}, 'logout+jwt')), 'ERR_IDP_TOKEN_TYPE', 'type');

  // Plain JWT and no typ where configured (Entra ID and Okta access tokens); still never a secevent.
  const legacy = verifierWith(t, { acceptedTypes: ['at+jwt', 'JWT', 'absent'] });
  assert.equal((await legacy.verify(await sign({ jti: 'jwt' }, 'JWT'))).subject, 'app1');
  assert.equal((await legacy.verify(await sign({ jti: 'absent' }))).subject, 'app1');
  await rejects(legacy.verify(await sign({}, 'secevent+jwt')), 'ERR_IDP_TOKEN_TYPE', 'type');
  assert.equal(idpListSchema.safeParse([{ issuer: idp.issuer, audience: 'a', allowInsecure: true, acceptedTypes: ['secevent+jwt'] }]).success, false);
  assert.equal(idpListSchema.safeParse([{ issuer: idp.issuer, audience: 'a', allowInsecure: true, acceptedTypes: [] }]).success, false);
});

test('token type: ID tokens (nonce, at_hash, aud = azp without scope) only with allowIdTokens', async (t) => {
  const types = { acceptedTypes: ['at+jwt', 'JWT', 'absent'] as ('at+jwt' | 'JWT' | 'absent')[] };
  const verifier = verifierWith(t, types);
  const idTokens = [
    await sign({ nonce: 'n-0S6_WzA2Mj' }),
    await sign({ at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q' }, 'JWT'),
    await sign({ aud: 'app1', azp: 'app1', client_id: undefined }),
  ];
  // The last one names the client as audience: accepted only because the broker is configured so.
  const sameAud = verifierWith(t, { ...types, audience: [idp.audience, 'app1'] });
  for (const token of idTokens.slice(0, 2)) await rejects(verifier.verify(token), 'ERR_IDP_TOKEN_TYPE', 'type');
  await rejects(sameAud.verify(idTokens[2]!), 'ERR_IDP_TOKEN_TYPE', 'type');
  // An access token for that audience with a scope is not an ID token.
  assert.equal((await sameAud.verify(await sign({ aud: 'app1', azp: 'app1', scope: 'tokens:read', client_id: undefined }))).clientId, 'app1');

  const allowing = verifierWith(t, { ...types, audience: [idp.audience, 'app1'], allowIdTokens: true });
  for (const token of idTokens) assert.equal((await allowing.verify(token)).subject, 'app1');
  // allowIdTokens does not widen the typ list: an ID token says JWT or nothing, so it needs one of them.
  assert.equal(idpListSchema.safeParse([{ issuer: idp.issuer, audience: 'a', allowInsecure: true, allowIdTokens: true }]).success, false);
});

test('allowedClients: only tokens issued to the listed OAuth clients (azp or client_id)', async (t) => {
  const verifier = verifierWith(t, { allowedClients: ['app1', 'web'] });
  assert.equal((await verifier.verify(await idp.clientCredentialsToken('app1'))).clientId, 'app1');
  assert.equal((await verifier.verify(await sign({ client_id: undefined, azp: 'web' }, 'at+jwt'))).clientId, 'web');
  await rejects(verifier.verify(await sign({ client_id: 'other-app' }, 'at+jwt')), 'ERR_IDP_CLIENT_NOT_ALLOWED', 'client');
  await rejects(verifier.verify(await sign({ client_id: undefined }, 'at+jwt')), 'ERR_IDP_CLIENT_NOT_ALLOWED', 'client');
  // azp wins over client_id where both are present (azp is the party the token was issued to).
  await rejects(verifier.verify(await sign({ azp: 'other-app', client_id: 'app1' }, 'at+jwt')), 'ERR_IDP_CLIENT_NOT_ALLOWED', 'client');
});

test('principals: a token without sub is the client, never the user whose sub equals the client id', async (t) => {
  const verifier = verifierWith(t);
  const user = await verifier.verify(await sign({ sub: 'alice', client_id: 'portal' }, 'at+jwt'));
  const client = await verifier.verify(await sign({ sub: undefined, client_id: 'alice' }, 'at+jwt'));
  assert.equal(user.principal, 'user');
  assert.equal(user.subject, 'alice');
  assert.equal(client.principal, 'client');
  assert.equal(client.subject, 'client:alice');
  assert.equal(client.clientId, 'alice');
  assert.notEqual(client.subject, user.subject);
  // A sub that would read as a client principal is refused rather than allowed to collide.
  await rejects(verifier.verify(await sign({ sub: 'client:alice' }, 'at+jwt')), 'ERR_IDP_TOKEN_INVALID', 'subject');
  await rejects(verifier.verify(await sign({ sub: undefined, client_id: undefined }, 'at+jwt')), 'ERR_IDP_TOKEN_INVALID', 'subject');

  // The policy's `subject` rule names the user; the client is matched by `clientId` (or `client:<id>`).
  const policy = createPolicy(policyConfigSchema.parse({
    rules: [
      { name: 'alice', match: { issuer: idp.issuer, subject: 'alice' }, profiles: ['sales'] },
      { name: 'alice-app', match: { issuer: idp.issuer, subject: 'client:alice' }, profiles: ['billing'] },
    ],
  }), { logger });
  assert.equal(policy.evaluate(user, 'sales').allowed, true);
  assert.equal(policy.evaluate(client, 'sales').allowed, false);
  assert.equal(policy.evaluate(client, 'billing').allowed, true);
  assert.equal(policy.evaluate(user, 'billing').allowed, false);
});

test('unknown issuer: the same code, status and message as a bad signature; the reason stays internal', async (t) => {
  const verifier = verifierWith(t);
  const unknown = await rejection(verifier.verify(await sign({ iss: 'https://evil.example' }, 'at+jwt')));
  const noIss = await rejection(verifier.verify(await sign({ iss: undefined }, 'at+jwt')));
  const other = await startIdp({ clients });
  t.after(() => other.close());
  const badSignature = await rejection(verifier.verify(await signToken(claims(), { key: other.signingKey, kid: idp.kid, typ: 'at+jwt' })));
  for (const err of [unknown, noIss, badSignature]) {
    assert.equal(err.code, 'ERR_IDP_TOKEN_INVALID');
    assert.equal(err.status, 401);
    assert.equal(err.message, badSignature.message);
  }
  assert.equal(unknown.details?.reason, 'issuer');
  assert.equal(noIss.details?.reason, 'issuer');
  assert.equal(badSignature.details?.reason, 'signature');
  // alg none answers the same whether the issuer is trusted or not.
  const noneKnown = await rejection(verifier.verify(unsignedToken(claims(), idp.kid)));
  const noneUnknown = await rejection(verifier.verify(unsignedToken(claims({ iss: 'https://evil.example' }))));
  assert.equal(noneKnown.code, 'ERR_IDP_ALG_NOT_ALLOWED');
  assert.equal(noneUnknown.code, noneKnown.code);
  assert.equal(noneUnknown.message, noneKnown.message);
  // Every rejection names its reason with a short stable word (the auth failure metric's label).
  const expired = await rejection(verifier.verify(await sign({ iat: epoch(-600), exp: epoch(-120) }, 'at+jwt')));
  assert.equal(expired.details?.reason, 'expired');
  const audience = await rejection(verifier.verify(await sign({ aud: 'api://other' }, 'at+jwt')));
  assert.deepEqual([audience.code, audience.details?.reason, audience.message], ['ERR_IDP_TOKEN_INVALID', 'audience', badSignature.message]);
  assert.equal((await rejection(verifier.verify('not-a-jwt'))).details?.reason, 'malformed');
});

test('rejected tokens: the same junk token costs one verification for 30 s, then is checked again', async (t) => {
  let clock = Date.now();
  const verifier = verifierWith(t, {}, { now: () => clock });
  const other = await startIdp({ clients });
  t.after(() => other.close());
  const junk = await signToken(claims(), { key: other.signingKey, kid: idp.kid, typ: 'at+jwt' });
  const first = await rejection(verifier.verify(junk));
  const again = await Promise.all(Array.from({ length: 20 }, () => rejection(verifier.verify(junk))));
  for (const err of again) assert.equal(err, first, 'the same error, from the cache');
  assert.equal(verifier.stats().jwtVerifications, 1);
  assert.equal(verifier.stats().rejectedHits, 20);
  clock += 31_000;
  assert.equal((await rejection(verifier.verify(junk))).code, 'ERR_IDP_TOKEN_INVALID');
  assert.equal(verifier.stats().jwtVerifications, 2);

  // Bounded, and its lifetime is a setting.
  const small = verifierWith(t, {}, { now: () => clock, cache: { rejectedMax: 2, rejectedSec: 5 } });
  const tokens = await Promise.all(['1', '2', '3'].map((jti) => signToken(claims({ jti }), { key: other.signingKey, kid: idp.kid, typ: 'at+jwt' })));
  for (const token of tokens) await rejection(small.verify(token));
  await rejection(small.verify(tokens[0]!)); // evicted by the third: verified again
  assert.equal(small.stats().jwtVerifications, 4);
  await rejection(small.verify(tokens[0]!));
  assert.equal(small.stats().jwtVerifications, 4);
  clock += 6_000;
  await rejection(small.verify(tokens[0]!));
  assert.equal(small.stats().jwtVerifications, 5);
});
