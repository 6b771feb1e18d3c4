// A token revoked at Genesys by someone else is replaced, not retried: a holder reports it, the
// broker confirms with Genesys, and one mint replaces it however many replicas and holders report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKeys } from '@gtb/redis';
import { startReplica, startSystem, type TestSystem } from '../../../test/support/system.js';
import { waitFor } from '../../../test/support/wait.js';

type TokenAnswer = { access_token: string; fingerprint: string; replaced?: boolean; code?: string };

const minted = (sys: TestSystem) => Object.values(sys.sandbox.admin.counters().tokensMinted ?? {}).reduce((a: number, b) => a + Number(b), 0);

async function report(url: string, sys: TestSystem, fingerprint: unknown, client: 'app' | 'stranger' = 'app', contentType = 'application/json') {
  const res = await fetch(`${url}/v1/tokens/sales/rejected`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await sys.tokenFor(client)}`, 'content-type': contentType },
    body: JSON.stringify({ fingerprint }),
  });
  return { status: res.status, body: await res.json() as TokenAnswer };
}

async function lifecycle(sys: TestSystem): Promise<Record<string, unknown>[]> {
  const entries = await sys.redis.xrange(createKeys(sys.prefix).lifecycleStream(), '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[1]!) as Record<string, unknown>);
}

test('a token revoked at Genesys is confirmed and replaced once, whatever the number of reports and replicas', async (t) => {
  const sys = await startSystem();
  t.after(() => sys.close());
  const second = await startReplica(sys);
  t.after(() => second.stop());

  const first = await (await sys.get('/v1/tokens/sales')).json() as TokenAnswer;
  // Both replicas hold it in memory.
  const onSecond = await (await fetch(`${second.url}/v1/tokens/sales`, { headers: { authorization: `Bearer ${await sys.tokenFor('app')}` } })).json() as TokenAnswer;
  assert.equal(onSecond.fingerprint, first.fingerprint);
  const mintsBefore = minted(sys);

  // A report while Genesys still accepts the token changes nothing and mints nothing.
  const idle = await report(sys.broker.url, sys, first.fingerprint);
  assert.equal(idle.status, 200);
  assert.equal(idle.body.replaced, false);
  assert.equal(idle.body.fingerprint, first.fingerprint);
  assert.equal(minted(sys), mintsBefore);

  // Another app revokes the shared token at Genesys.
  const revoked = await fetch(`${sys.sandbox.url}/api/v2/tokens/me`, { method: 'DELETE', headers: { authorization: `Bearer ${first.access_token}` } });
  assert.ok(revoked.status < 300, `sandbox revoked the token (${revoked.status})`);

  // Every holder on both replicas reports it at once.
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => report(i % 2 === 0 ? sys.broker.url : second.url, sys, first.fingerprint)));
  for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
  const fingerprints = new Set(answers.map((a) => a.body.fingerprint));
  assert.equal(fingerprints.size, 1, 'every reporter gets the same replacement');
  const replacement = answers[0]!.body;
  assert.notEqual(replacement.fingerprint, first.fingerprint);
  assert.ok(answers.some((a) => a.body.replaced === true));
  assert.equal(minted(sys) - mintsBefore, 1, 'one upstream mint for all the reports');
  const me = await fetch(`${sys.sandbox.url}/api/v2/tokens/me`, { headers: { authorization: `Bearer ${replacement.access_token}` } });
  assert.equal(me.status, 200, 'the replacement works at Genesys');

  // Both replicas now hand out the replacement.
  for (const url of [sys.broker.url, second.url]) {
    await waitFor(`replica ${url} to serve the replacement`, async () => {
      const body = await (await fetch(`${url}/v1/tokens/sales`, { headers: { authorization: `Bearer ${await sys.tokenFor('app')}` } })).json() as TokenAnswer;
      return body.fingerprint === replacement.fingerprint;
    });
  }
  // A late report of the old token is answered with the current one, without asking Genesys or minting.
  const late = await report(second.url, sys, first.fingerprint);
  assert.equal(late.body.fingerprint, replacement.fingerprint);
  assert.equal(late.body.replaced, false);
  assert.equal(minted(sys) - mintsBefore, 1);

  // Lifecycle: token.revoked with cause upstream, and the rotation that wakes lease holders.
  await waitFor('lifecycle events', async () => (await lifecycle(sys)).some((e) => e.type === 'token.rotated'));
  const events = await lifecycle(sys);
  const revokedEvents = events.filter((e) => e.type === 'token.revoked');
  assert.equal(revokedEvents.length, 1);
  assert.deepEqual((revokedEvents[0]!.data as Record<string, unknown>).cause, 'upstream');
  assert.equal((revokedEvents[0]!.data as Record<string, unknown>).fingerprint, first.fingerprint);
  const rotated = events.find((e) => e.type === 'token.rotated')!.data as Record<string, unknown>;
  assert.equal(rotated.previousFingerprint, first.fingerprint);
  assert.equal(rotated.fingerprint, replacement.fingerprint);
});

test('reports are checked like token requests: policy, body, media type', async (t) => {
  const sys = await startSystem();
  t.after(() => sys.close());
  await sys.get('/v1/tokens/sales');
  assert.equal((await report(sys.broker.url, sys, 'abcdefabcdef', 'stranger')).status, 403);
  const bad = await report(sys.broker.url, sys, 'not-a-fingerprint');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'ERR_VALIDATION');
  assert.equal((await report(sys.broker.url, sys, 'abcdefabcdef', 'app', 'text/plain')).status, 415);
  // A fingerprint that is not the cached token's: the current token, nothing replaced.
  const other = await report(sys.broker.url, sys, 'abcdefabcdef');
  assert.equal(other.status, 200);
  assert.equal(other.body.replaced, false);
});
