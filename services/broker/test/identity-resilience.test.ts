// The verifier when an IdP misbehaves or goes away: introspection answers that omit `iss`/`aud`,
// revocation noticed within the introspection cache bound, a key set endpoint that fails (backoff,
// last good keys for a bounded time), and readiness that reports each IdP rather than failing the
// replica for all callers because one of several IdPs is down. Real oidc-provider IdPs; requests
// are counted at the IdP.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createLogger } from '@gtb/logger';
import { startIdp, type TestIdp } from '../../../test/fixtures/idp/index.js';
import { epoch, signToken } from '../../../test/fixtures/idp/forge.js';
import { createIdentityVerifier, idpListSchema, type IdpConfigInput } from '../src/identity/index.js';
import { codeOf } from './identity-helpers.js';

const logger = createLogger({ name: 'test', level: 'silent' });
const SECRET = 'app-secret-0123456789-0123456789-0123456789';
const BROKER_SECRET = 'broker-secret-0123456789-0123456789-012345';
const clients = [
  { client_id: 'app1', client_secret: SECRET, scope: 'tokens:read' },
  { client_id: 'broker', client_secret: BROKER_SECRET },
];
const introspection = { clientId: 'broker', clientSecret: BROKER_SECRET };

const settingsFor = (idp: TestIdp, extra: Partial<IdpConfigInput> = {}): IdpConfigInput => ({ issuer: idp.issuer, audience: idp.audience, allowInsecure: true, ...extra });
const sign = (idp: TestIdp, jti: string, nowMs = Date.now()) =>
  signToken({ iss: idp.issuer, aud: idp.audience, sub: 'app1', jti, iat: epoch(0, nowMs), exp: epoch(300, nowMs) }, { key: idp.signingKey, kid: idp.kid, typ: 'at+jwt' });

/** The fetch the verifier uses, with the introspection answer's fields in `drop` removed: an IdP that leaves them out. */
function droppingFetch(drop: string[]): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!String(input instanceof Request ? input.url : input).endsWith('/token/introspection')) return res;
    const body = (await res.json()) as Record<string, unknown>;
    for (const field of drop) delete body[field];
    return new Response(JSON.stringify(body), { status: res.status, headers: { 'content-type': 'application/json' } });
  };
}

test('introspection: an active answer without iss or aud is refused, as is a wrong one', async (t) => {
  const idp = await startIdp({ clients });
  t.after(() => idp.close());
  const idps = idpListSchema.parse([settingsFor(idp, { introspection })]);
  const whole = createIdentityVerifier({ idps, logger });
  assert.equal((await whole.verify(await idp.opaqueToken('app1'))).clientId, 'app1');
  for (const [drop, reason] of [[['iss'], 'issuer'], [['aud'], 'audience']] as const) {
    const verifier = createIdentityVerifier({ idps, logger, fetch: droppingFetch([...drop]) });
    await assert.rejects(verifier.verify(await idp.opaqueToken('app1')), (err: { code?: string; details?: { reason?: string } }) => {
      assert.equal(err.code, 'ERR_IDP_TOKEN_INVALID');
      assert.equal(err.details?.reason, reason);
      return true;
    });
  }
});

test('introspection: a revoked token is refused once the introspection cache bound passes, not at exp', async (t) => {
  const idp = await startIdp({ clients, accessTokenTtl: 3600 });
  t.after(() => idp.close());
  let clock = Date.now();
  const verifier = createIdentityVerifier({ idps: idpListSchema.parse([settingsFor(idp, { introspection })]), logger, now: () => clock });
  const opaque = await idp.opaqueToken('app1');
  await verifier.verify(opaque);
  await idp.revoke('app1', opaque);
  // Within the bound the cached answer stands (that is the cache's point)...
  clock += 30_000;
  assert.equal(await codeOf(verifier.verify(opaque)), undefined);
  assert.equal(idp.counts.introspection, 1);
  // ...past the default 60 s it is asked again, and the IdP says inactive.
  clock += 31_000;
  assert.equal(await codeOf(verifier.verify(opaque)), 'ERR_IDP_TOKEN_INVALID');
  assert.equal(idp.counts.introspection, 2);
  assert.equal(idpListSchema.parse([settingsFor(idp, { introspection })])[0]!.introspection?.cacheSec, 60);
});

test('jwks: once the keys are stale and the endpoint fails, the last good keys serve and fetches back off', async (t) => {
  const idp = await startIdp({ clients });
  t.after(() => idp.close());
  const verifier = createIdentityVerifier({ idps: idpListSchema.parse([settingsFor(idp, { jwks: { cooldownSec: 1, cacheMaxAgeSec: 1 } })]), logger });
  assert.equal((await verifier.verify(await sign(idp, 'warm'))).subject, 'app1');
  const loaded = idp.counts.jwks;
  idp.setUnavailable(true);
  await new Promise((r) => setTimeout(r, 1200)); // the keys are now past cacheMaxAgeSec
  const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => sign(idp, `stale-${i}`)));
  for (const token of tokens) assert.equal((await verifier.verify(token)).subject, 'app1', 'served with the last good keys');
  const attempts = idp.counts.jwks - loaded;
  assert.ok(attempts >= 1 && attempts <= 2, `${attempts} key set fetches for 20 requests while failing`);
  assert.equal(await verifier.ready(), true, 'ready on the last good keys');
  idp.setUnavailable(false);
});

test('jwks: stale keys are trusted for staleKeysMaxSec only, and the retry delay doubles up to its bound', async (t) => {
  const idp = await startIdp({ clients });
  t.after(() => idp.close());
  let clock = Date.now();
  const config = idpListSchema.parse([settingsFor(idp, { jwks: { cooldownSec: 5, cacheMaxAgeSec: 60, staleKeysMaxSec: 600, maxBackoffSec: 8 } })]);
  const verifier = createIdentityVerifier({ idps: config, logger, now: () => clock });
  await verifier.verify(await sign(idp, 'warm', clock));
  const base = idp.counts.jwks;
  idp.setUnavailable(true);
  clock += 61_000;
  let n = 0;
  const verifyNew = async () => codeOf(verifier.verify(await sign(idp, `t${n++}`, clock)));
  assert.equal(await verifyNew(), undefined);
  assert.equal(idp.counts.jwks, base + 1);
  // Retries at +1 s, +2 s, +4 s, +8 s, +8 s after each failure: nothing in between.
  for (const delay of [1, 2, 4, 8, 8]) {
    const before = idp.counts.jwks;
    clock += delay * 1000 - 100;
    assert.equal(await verifyNew(), undefined);
    assert.equal(idp.counts.jwks, before, `no fetch within ${delay} s`);
    clock += 100;
    assert.equal(await verifyNew(), undefined);
    assert.equal(idp.counts.jwks, before + 1, `a fetch after ${delay} s`);
  }
  // Past cacheMaxAgeSec + staleKeysMaxSec the old keys are no longer trusted: 503, and not ready.
  clock += 600_000;
  assert.equal(await verifyNew(), 'ERR_IDP_UNAVAILABLE');
  assert.equal(await verifier.ready(), false);
  // The IdP back: the next retry loads fresh keys.
  idp.setUnavailable(false);
  clock += 8_000;
  assert.equal(await verifyNew(), undefined);
  assert.equal(await verifier.ready(), true);
});

test('jwks settings: a zero cooldown is refused (every unknown kid would fetch the key set)', () => {
  const base = { issuer: 'https://x.example', audience: 'a' };
  assert.equal(idpListSchema.safeParse([{ ...base, jwks: { cooldownSec: 0 } }]).success, false);
  assert.equal(idpListSchema.safeParse([{ ...base, jwks: { maxBackoffSec: 0 } }]).success, false);
  const parsed = idpListSchema.parse([base])[0]!;
  assert.deepEqual(parsed.jwks, { cooldownSec: 30, cacheMaxAgeSec: 600, staleKeysMaxSec: 3600, maxBackoffSec: 60 });
});

test('readiness: one IdP down leaves the replica ready for the others, and says which', async (t) => {
  const [a, b] = await Promise.all([startIdp({ clients }), startIdp({ clients })]);
  t.after(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  b.setUnavailable(true);
  const verifier = createIdentityVerifier({ idps: idpListSchema.parse([settingsFor(a, { name: 'a' }), settingsFor(b, { name: 'b' })]), logger });
  assert.equal(await verifier.ready(), true);
  assert.deepEqual(await verifier.status(), [{ name: 'a', ready: true, keys: 'fresh' }, { name: 'b', ready: false, keys: 'none' }]);
  assert.equal((await verifier.verify(await a.clientCredentialsToken('app1'))).clientId, 'app1');
  assert.equal(await codeOf(verifier.verify(await sign(b, 'b-down'))), 'ERR_IDP_UNAVAILABLE');
  // All of them down: then the replica can authenticate nobody and is not ready.
  a.setUnavailable(true);
  const both = createIdentityVerifier({ idps: idpListSchema.parse([settingsFor(a), settingsFor(b)]), logger });
  assert.equal(await both.ready(), false);
});
