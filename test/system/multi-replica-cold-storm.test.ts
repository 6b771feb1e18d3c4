import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKeys } from '@gtb/redis';
import { startCluster } from '../support/cluster.js';
import { createAgent, getJson, type Answer } from '../support/http-client.js';

const CALLERS = 1_000;
const REPLICAS = 3;
/** Upstream latency on /oauth/token: the whole storm arrives while the one mint is still running. */
const MINT_LATENCY_MS = 1_500;

test('1,000 concurrent callers over 3 broker processes on a cold cache: one upstream mint, one token', { timeout: 90_000 }, async (t) => {
  const cluster = await startCluster({ replicas: REPLICAS, brokerOverrides: { tokens: { lockTtlMs: 15_000, waitTimeoutMs: 30_000 } } });
  t.after(() => cluster.close());
  const agents = cluster.brokers.map(() => createAgent(200));
  t.after(() => { for (const a of agents) a.destroy(); });
  const bearer = await cluster.tokenFor('app');
  // Warm the IdP side only (discovery, JWKS, the verified-token cache) so that what the storm
  // measures is the Genesys token cache; nothing of the profile is cached yet.
  for (const [i, b] of cluster.brokers.entries()) {
    const res = await getJson(`${b.url}/v1/profiles`, { bearer, agent: agents[i] });
    assert.equal(res.status, 403, 'the app is not an admin: identity verified, no token touched');
  }
  assert.equal(cluster.mints(), 0);
  assert.equal(await cluster.redis.exists(createKeys(cluster.prefix).token('sales')), 0, 'the cache is cold');
  cluster.sandbox.admin.injectFault({ type: 'latency', ms: MINT_LATENCY_MS, route: '/oauth/token' });

  const started = Date.now();
  const calls: Promise<Answer>[] = [];
  for (let i = 0; i < CALLERS; i++) {
    const r = i % REPLICAS;
    calls.push(getJson(`${cluster.brokers[r]!.url}/v1/tokens/sales`, { bearer, agent: agents[r], timeoutMs: 60_000 }));
  }
  const settled = await Promise.allSettled(calls);
  const elapsed = Date.now() - started;
  const failures = settled.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason));
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} callers failed at the transport level`);
  const answers = settled.map((s) => (s as PromiseFulfilledResult<Answer>).value);
  const statuses = new Map<number, number>();
  for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
  assert.deepEqual([...statuses], [[200, CALLERS]], `statuses: ${JSON.stringify([...statuses])}; e.g. ${JSON.stringify(answers.find((a) => a.status !== 200)?.body)}`);

  const tokens = new Set(answers.map((a) => a.body.access_token));
  const fingerprints = new Set(answers.map((a) => a.body.fingerprint));
  assert.equal(tokens.size, 1, 'every caller got the same token');
  assert.equal(fingerprints.size, 1);
  assert.equal(cluster.mints(), 1, 'the sandbox minted exactly one token');
  assert.equal(Number(await cluster.redis.get(createKeys(cluster.prefix).fence('sales'))), 1, 'one fence was drawn: one lock holder minted');
  // The storm really overlapped the mint: most callers waited on it rather than arriving later.
  const waited = answers.filter((a) => a.ms >= MINT_LATENCY_MS * 0.5).length;
  assert.ok(waited >= CALLERS / 2, `only ${waited} callers overlapped the mint`);
  t.diagnostic(`${CALLERS} callers in ${elapsed} ms; ${waited} waited on the in-flight mint; max ${Math.round(Math.max(...answers.map((a) => a.ms)))} ms`);
});
