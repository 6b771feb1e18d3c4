// Key-set behaviour against a real oidc-provider: refetch cooldown under an unknown-kid storm,
// key rotation, and an unreachable or failing IdP (503, not 401). JWKS requests are counted at
// the IdP itself.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@gtb/logger';
import { startIdp } from '../../../test/fixtures/idp/index.js';
import { epoch, signToken } from '../../../test/fixtures/idp/forge.js';
import { waitFor } from '../../../test/support/wait.js';
import { idpListSchema, createIdentityVerifier } from '../src/identity/index.js';
import { codeOf } from './identity-helpers.js';

const logger = createLogger({ name: 'test', level: 'silent' });
const clients = [{ client_id: 'app1', client_secret: 'app-secret-0123456789-0123456789-0123456789' }];

test('identity jwks: a storm of 50 unknown kids causes at most a couple of JWKS fetches', async (t) => {
  const idp = await startIdp({ clients });
  t.after(() => idp.close());
  const verifier = createIdentityVerifier({
    idps: idpListSchema.parse([{ issuer: idp.issuer, audience: idp.audience, allowInsecure: true, jwks: { cooldownSec: 2, cacheMaxAgeSec: 600 } }]),
    logger,
  });
  assert.equal(await verifier.ready(), true);
  assert.equal(await verifier.ready(), true);
  const before = idp.counts.jwks;
  assert.equal(before, 1, 'ready() loads the keys once');
  const claims = { iss: idp.issuer, aud: idp.audience, sub: 'x', iat: epoch(), exp: epoch(300) };
  const storm = await Promise.all(
    Array.from({ length: 50 }, (_, i) => signToken({ ...claims, jti: String(i) }, { key: idp.signingKey, kid: `unknown-${i}`, typ: 'at+jwt' })),
  );
  // Past the cooldown an unknown kid may refetch once; the other 49 must not each refetch.
  await new Promise((r) => setTimeout(r, 2100));
  const codes = await Promise.all(storm.map((tok) => codeOf(verifier.verify(tok))));
  for (const code of codes) assert.equal(code, 'ERR_IDP_TOKEN_INVALID');
  const fetches = idp.counts.jwks - before;
  assert.ok(fetches >= 1 && fetches <= 2, `JWKS fetched ${fetches} times`);
  // Within the cooldown, more unknown kids cause no fetch at all.
  const after = idp.counts.jwks;
  for (const tok of storm.slice(0, 10)) assert.equal(await codeOf(verifier.verify(tok)), 'ERR_IDP_TOKEN_INVALID');
  assert.equal(idp.counts.jwks, after);
  // A genuine token still works afterwards.
  assert.equal((await verifier.verify(await idp.clientCredentialsToken('app1'))).subject, 'app1');
});

test('identity jwks: a rotated key (new kid) is picked up; the old key still verifies', async (t) => {
  const idp = await startIdp({ clients });
  t.after(() => idp.close());
  const verifier = createIdentityVerifier({
    idps: idpListSchema.parse([{ issuer: idp.issuer, audience: idp.audience, allowInsecure: true, jwks: { cooldownSec: 1, cacheMaxAgeSec: 600 } }]),
    logger,
  });
  const first = await idp.clientCredentialsToken('app1');
  await verifier.verify(first);
  const oldKey = idp.signingKey;
  const oldKid = idp.kid;
  await idp.rotateKeys();
  assert.notEqual(idp.kid, oldKid);
  const rotated = await idp.clientCredentialsToken('app1');
  // The refetch waits out the (short) cooldown since the first load.
  await waitFor('the rotated key to verify', async () => (await codeOf(verifier.verify(rotated))) === undefined, { intervalMs: 50 });
  const claims = { iss: idp.issuer, aud: idp.audience, sub: 'old', iat: epoch(), exp: epoch(300) };
  assert.equal((await verifier.verify(await signToken(claims, { key: oldKey, kid: oldKid, typ: 'at+jwt' }))).subject, 'old');
});

test('identity jwks: an unreachable IdP is ERR_IDP_UNAVAILABLE (503) and not ready', async (t) => {
  // Reserve a port, then free it, so that nothing listens there.
  const placeholder = createServer();
  await new Promise<void>((r) => placeholder.listen(0, '127.0.0.1', () => r()));
  const { port } = placeholder.address() as AddressInfo;
  await new Promise<void>((r) => placeholder.close(() => r()));
  const issuer = `http://127.0.0.1:${port}`;
  let clock = Date.now();
  const verifier = createIdentityVerifier({ idps: idpListSchema.parse([{ issuer, audience: 'api://x', allowInsecure: true, timeoutMs: 2000 }]), logger, now: () => clock });
  const idp = await startIdp({ clients });
  t.after(() => idp.close());
  const token = await signToken({ iss: issuer, aud: 'api://x', sub: 's', iat: epoch(), exp: epoch(300) }, { key: idp.signingKey, kid: idp.kid, typ: 'at+jwt' });
  assert.equal(await codeOf(verifier.verify(token)), 'ERR_IDP_UNAVAILABLE');
  // Within the retry window it fails fast, without another attempt.
  assert.equal(await codeOf(verifier.verify(token)), 'ERR_IDP_UNAVAILABLE');
  assert.equal(await verifier.ready(), false);
  clock += 10_000;
  assert.equal(await codeOf(verifier.verify(token)), 'ERR_IDP_UNAVAILABLE');
});

test('identity jwks: an IdP outage is ERR_IDP_UNAVAILABLE until discovered, then keys keep working', async (t) => {
  const idp = await startIdp({ clients });
  t.after(() => idp.close());
  let clock = Date.now();
  const verifier = createIdentityVerifier({
    idps: idpListSchema.parse([{ issuer: idp.issuer, audience: idp.audience, allowInsecure: true, jwks: { cooldownSec: 1, cacheMaxAgeSec: 600 } }]),
    logger,
    now: () => clock,
  });
  const token = await idp.clientCredentialsToken('app1');
  idp.setUnavailable(true);
  assert.equal(await codeOf(verifier.verify(token)), 'ERR_IDP_UNAVAILABLE');
  assert.equal(await verifier.ready(), false);
  idp.setUnavailable(false);
  clock += 10_000; // past the discovery retry window
  await waitFor('the verifier to be ready', () => verifier.ready(), { intervalMs: 50 });
  assert.equal((await verifier.verify(token)).subject, 'app1');
  // Keys are loaded: an outage does not turn tokens signed with a known key away.
  idp.setUnavailable(true);
  const sign = (sub: string) =>
    signToken({ iss: idp.issuer, aud: idp.audience, sub, iat: epoch(), exp: epoch(300) }, { key: idp.signingKey, kid: idp.kid, typ: 'at+jwt' });
  assert.equal((await verifier.verify(await sign('known-kid'))).subject, 'known-kid');
  // A new kid needs a key-set fetch, which fails: 503, not 401.
  await idp.rotateKeys();
  const rotated = await sign('new-kid');
  clock += 1000; // past the 1 s cooldown since the last key set fetch
  assert.equal(await codeOf(verifier.verify(rotated)), 'ERR_IDP_UNAVAILABLE');
  idp.setUnavailable(false);
  // Retries back off on the injected clock: let it run.
  await waitFor('the new kid to verify once the IdP is back', async () => {
    clock += 1000;
    return (await codeOf(verifier.verify(rotated))) === undefined;
  }, { intervalMs: 50 });
});
