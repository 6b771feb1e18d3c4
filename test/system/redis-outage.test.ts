import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../support/cluster.js';
import { createAgent, getJson, type Answer } from '../support/http-client.js';
import { waitFor } from '../support/wait.js';
import { spawnBroker, type BrokerProcess } from '../support/processes.js';
import { startPrivateRedis } from '../support/redis-server.js';

const REPLICAS = 2;
const PAUSE_MS = 100;
/** How long traffic runs with Redis down, and again after it is back. */
const OUTAGE_MS = 3_000;
const RECOVERED_MS = 2_000;

type Phase = 'before' | 'outage' | 'recovered';
interface Seen extends Answer { phase: Phase }

test('Redis stops and comes back: brokers serve their L1 token, report not ready, recover by themselves, no mint storm', { timeout: 90_000 }, async (t) => {
  // A private Redis on its own port: this test stops it, and must never touch the shared one.
  const redis = await startPrivateRedis();
  // Filled in as parts start; the cleanup stops whatever did.
  const parts: { cluster?: Cluster; late?: BrokerProcess } = {};
  t.after(async () => {
    await parts.late?.kill();
    await parts.cluster?.close();
    await redis.stop();
  });
  const c = await startCluster({ replicas: REPLICAS, redisUrl: redis.url, profiles: ['sales', 'support'] });
  parts.cluster = c;
  const agents = c.brokers.map(() => createAgent(5));
  t.after(() => { for (const a of agents) a.destroy(); });
  const bearer = await c.tokenFor('app');
  const readyz = async (i: number) => (await getJson(`${c.brokers[i]!.url}/readyz`, { agent: agents[i], timeoutMs: 10_000 })).status;

  const warm = await Promise.all(c.brokers.map((b, i) => getJson(`${b.url}/v1/tokens/sales`, { bearer, agent: agents[i] })));
  for (const w of warm) assert.equal(w.status, 200);
  const token = warm[0]!.body.access_token;
  assert.equal(c.mints(), 1);

  let phase: Phase = 'before';
  let running = true;
  const seen: Seen[] = [];
  const loops = c.brokers.map(async (b, i) => {
    // Bounded even if the test body throws before it stops the traffic.
    const hardStop = Date.now() + 60_000;
    while (running && Date.now() < hardStop) {
      const p = phase;
      const a = await getJson(`${b.url}/v1/tokens/sales`, { bearer, agent: agents[i], timeoutMs: 10_000 });
      seen.push({ ...a, phase: p });
      await new Promise((r) => setTimeout(r, PAUSE_MS));
    }
  });
  t.after(async () => { running = false; await Promise.allSettled(loops); });

  await new Promise((r) => setTimeout(r, 500));
  await redis.stop();
  phase = 'outage';
  for (let i = 0; i < REPLICAS; i++) await waitFor(`replica ${i} to report not ready`, async () => (await readyz(i)) === 503, { timeoutMs: 15_000, intervalMs: 50 });
  // A profile no replica holds cannot be served without Redis: a clear 503 with a stable code, not a 500.
  const cold = await getJson(`${c.brokers[0]!.url}/v1/tokens/support`, { bearer, agent: agents[0] });
  assert.equal(cold.status, 503, JSON.stringify(cold.body));
  assert.equal(cold.body.code, 'ERR_REDIS_UNAVAILABLE');
  await new Promise((r) => setTimeout(r, OUTAGE_MS));

  await redis.start();
  for (let i = 0; i < REPLICAS; i++) await waitFor(`replica ${i} to be ready again`, async () => (await readyz(i)) === 200, { timeoutMs: 30_000, intervalMs: 200 });
  phase = 'recovered';
  await new Promise((r) => setTimeout(r, RECOVERED_MS));
  running = false;
  await Promise.all(loops);

  const count = (p: Phase) => seen.filter((a) => a.phase === p).length;
  assert.ok(count('outage') >= REPLICAS * 5 && count('recovered') >= REPLICAS * 3, `traffic ran in each phase: ${JSON.stringify({ before: count('before'), outage: count('outage'), recovered: count('recovered') })}`);
  const bad = seen.filter((a) => a.status !== 200);
  assert.equal(bad.length, 0, `${bad.length} failed requests, e.g. ${bad[0]?.phase} ${bad[0]?.status} ${JSON.stringify(bad[0]?.body)}`);
  assert.ok(seen.every((a) => a.body.access_token === token), 'the held token was served throughout');
  assert.ok(c.mints() <= 2, `no mint storm after Redis returned: ${c.mints()} mints`);
  assert.equal(c.mints('support'), 0);
  // Redis came back empty (no persistence): a new replica with nothing in L1 is served too, by at
  // most one more mint, and the recovered replicas keep serving.
  const late = await spawnBroker({ config: { ...c.config, instanceId: `${String(c.config.instanceId)}-late` } });
  parts.late = late;
  const fresh = await getJson(`${late.url}/v1/tokens/sales`, { bearer });
  assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
  for (const [i, b] of c.brokers.entries()) assert.equal((await getJson(`${b.url}/v1/tokens/sales`, { bearer, agent: agents[i] })).status, 200);
  assert.ok(c.mints() <= 2, `${c.mints()} mints`);
  t.diagnostic(`requests before/outage/recovered: ${count('before')}/${count('outage')}/${count('recovered')}; mints ${c.mints()}`);
});
