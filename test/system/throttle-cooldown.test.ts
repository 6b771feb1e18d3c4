import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKeys } from '@gtb/redis';
import { startCluster } from '../support/cluster.js';
import { createAgent, getJson, type Answer } from '../support/http-client.js';
import { waitFor } from '../support/wait.js';

/** Stop sending this long before the cooldown ends, so every request lands inside it. */
const MARGIN_MS = 600;

test('throttled token endpoint: every replica honours the cooldown; cached callers unaffected, others get 503 + Retry-After', { timeout: 90_000 }, async (t) => {
  const cluster = await startCluster({ replicas: 3, profiles: ['sales', 'support'] });
  t.after(() => cluster.close());
  const agents = cluster.brokers.map(() => createAgent(10));
  t.after(() => { for (const a of agents) a.destroy(); });
  const bearer = await cluster.tokenFor('app');
  const keys = createKeys(cluster.prefix);
  const get = (replica: number, profile: string) => getJson(`${cluster.brokers[replica]!.url}/v1/tokens/${profile}`, { bearer, agent: agents[replica] });

  // `sales` is cached on every replica; `support` has never been minted.
  const warm = await Promise.all(cluster.brokers.map((_b, i) => get(i, 'sales')));
  for (const w of warm) assert.equal(w.status, 200);
  const salesToken = warm[0]!.body.access_token;
  assert.equal(cluster.mints('sales'), 1);

  // The login host now answers every token request with 400 "rate limit exceeded".
  cluster.sandbox.admin.injectFault({ type: 'token-throttle' });
  const first = await get(0, 'support');
  assertThrottled(first);
  assert.equal(cluster.throttled('support'), 1, 'one upstream attempt found the throttle');
  const pttl = await cluster.redis.pttl(keys.cooldown('support'));
  assert.ok(pttl > MARGIN_MS, `the cooldown is set cluster-wide (PTTL ${pttl})`);
  const cooldownEnds = Date.now() + pttl;

  // Every replica, many callers, all inside the cooldown: zero upstream token requests.
  const during: { profile: string; answer: Answer }[] = [];
  while (Date.now() < cooldownEnds - MARGIN_MS) {
    const round = await Promise.all(cluster.brokers.flatMap((_b, i) => [
      get(i, 'support').then((answer) => ({ profile: 'support', answer })),
      get(i, 'sales').then((answer) => ({ profile: 'sales', answer })),
    ]));
    during.push(...round);
  }
  const upstreamAfter = { throttled: cluster.throttled('support'), minted: cluster.mints('support') };
  const lastAnswerAt = Math.max(...during.map((d) => d.answer.at));
  assert.ok(lastAnswerAt < cooldownEnds, 'the burst ended inside the cooldown');
  assert.ok(during.length >= 6, `at least one round reached every replica (${during.length} answers)`);
  assert.deepEqual(upstreamAfter, { throttled: 1, minted: 0 }, 'no replica called the token endpoint during the cooldown');
  assert.equal(cluster.throttled('sales'), 0);
  assert.equal(cluster.mints('sales'), 1);
  for (const { profile, answer } of during) {
    if (profile === 'support') {
      assertThrottled(answer);
      assert.ok(Number(answer.headers['retry-after']) <= Math.ceil(pttl / 1000) + 1, 'Retry-After is the remaining cooldown');
    } else {
      assert.equal(answer.status, 200, `a cached token is still served: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.access_token, salesToken);
    }
  }

  // After the cooldown, with the throttle lifted, one replica mints and everyone gets that token.
  await waitFor('the cooldown to end', async () => (await cluster.redis.pttl(keys.cooldown('support'))) <= 0, { timeoutMs: 15_000, intervalMs: 50 });
  cluster.sandbox.admin.clearFaults();
  const after = await Promise.all(cluster.brokers.map((_b, i) => get(i, 'support')));
  for (const a of after) assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.equal(new Set(after.map((a) => a.body.access_token)).size, 1);
  assert.equal(cluster.mints('support'), 1);
  t.diagnostic(`cooldown ${pttl} ms; ${during.length} requests inside it, 0 upstream calls`);
});

function assertThrottled(answer: Answer): void {
  assert.equal(answer.status, 503, JSON.stringify(answer.body));
  assert.match(String(answer.headers['content-type']), /^application\/problem\+json/);
  assert.equal(answer.body.code, 'ERR_UPSTREAM_THROTTLED');
  const retryAfter = Number(answer.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${String(answer.headers['retry-after'])}`);
}
