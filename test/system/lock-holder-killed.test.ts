import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fingerprint } from '@gtb/logger';
import { fencedWrite } from '@gtb/lock';
import { createKeys } from '@gtb/redis';
import { createKeyRing, type KeyRingConfig } from '../../services/broker/src/tokens/index.js';
import { createL2Store } from '../../services/broker/src/tokens/l2-store.js';
import { startCluster } from '../support/cluster.js';
import { createAgent, getJson, type Answer } from '../support/http-client.js';
import { waitFor } from '../support/wait.js';
import { memoryLogger } from '../support/system.js';

const LOCK_TTL_MS = 3_000;
/** Long enough that the holder is surely still minting when it is killed. */
const MINT_LATENCY_MS = 8_000;

test('a lock holder SIGKILLed mid-mint: another replica mints after the lock TTL; a late write with the old fence is refused', { timeout: 90_000 }, async (t) => {
  const cluster = await startCluster({ replicas: 3, brokerOverrides: { tokens: { lockTtlMs: LOCK_TTL_MS, waitTimeoutMs: 20_000 } } });
  t.after(() => cluster.close());
  const agents = cluster.brokers.map(() => createAgent(10));
  t.after(() => { for (const a of agents) a.destroy(); });
  const bearer = await cluster.tokenFor('app');
  const keys = createKeys(cluster.prefix);
  const [holder, ...others] = cluster.brokers as [typeof cluster.brokers[0], ...typeof cluster.brokers];
  const get = (i: number) => getJson(`${cluster.brokers[i]!.url}/v1/tokens/sales`, { bearer, agent: agents[i], timeoutMs: 40_000 });

  cluster.sandbox.admin.injectFault({ type: 'latency', ms: MINT_LATENCY_MS, route: '/oauth/token' });
  // The holder's caller dies with it; its outcome is not part of the test.
  const holderCall = get(0).catch((err: unknown) => err);
  await waitFor('replica 0 to take the lock and draw fence 1', async () =>
    (await cluster.redis.exists(keys.lock('sales'))) === 1 && (await cluster.redis.get(keys.fence('sales'))) === '1', { timeoutMs: 15_000, intervalMs: 50 });
  // Waiters on the other replicas queue behind the lock before the holder dies.
  const waiting: Promise<Answer>[] = [get(1), get(2), get(1), get(2)];
  await holder.kill();
  const killedAt = Date.now();
  const orphanPttl = await cluster.redis.pttl(keys.lock('sales'));
  assert.ok(orphanPttl > 0, 'the dead holder\'s lock is still there: only its TTL frees it');
  cluster.sandbox.admin.clearFaults();

  const answers = await Promise.all(waiting);
  for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.equal(new Set(answers.map((a) => a.body.access_token)).size, 1, 'the waiters all got the new holder\'s token');
  const firstServed = Math.min(...answers.map((a) => a.at));
  assert.ok(firstServed >= killedAt + orphanPttl - 250, `served ${firstServed - killedAt} ms after the kill, before the orphaned lock (${orphanPttl} ms) lapsed`);
  assert.ok(firstServed - killedAt < LOCK_TTL_MS + 10_000, 'served soon after the lock lapsed');
  assert.equal(await cluster.redis.get(keys.fence('sales')), '2', 'the survivor minted under fence 2');
  const again = await Promise.all(others.map((_b, i) => get(i + 1)));
  for (const a of again) assert.equal(a.body.access_token, answers[0]!.body.access_token);
  await holderCall;

  // The dead holder's late write (fence 1) is refused, both through the token cache's L2 and the
  // raw fenced write, and L2 keeps the survivor's token.
  const { logger } = memoryLogger('silent');
  const store = createL2Store({ redis: cluster.redis, keys, keyRing: createKeyRing(cluster.config.encryption as KeyRingConfig), logger, redisTimeoutMs: 2_000 });
  const now = Date.now();
  const stale = {
    profile: 'sales', accessToken: 'stale-token-from-the-dead-holder', tokenType: 'bearer', issuedAt: now, expiresAt: now + 3_600_000,
    refreshAt: now + 2_880_000, fingerprint: fingerprint('stale-token-from-the-dead-holder'), fence: 1, apiBaseUrl: cluster.sandbox.url,
  };
  assert.equal(await store.write(stale, 60_000), false);
  assert.equal(await fencedWrite(cluster.redis, { dataKey: keys.token('sales'), fenceKey: keys.fence('sales'), value: 'garbage', fence: 1, ttlMs: 60_000 }), false);
  const held = await store.read('sales');
  assert.equal(held?.fence, 2);
  assert.equal(held?.fingerprint, answers[0]!.body.fingerprint);
  const after = await get(1);
  assert.equal(after.body.access_token, answers[0]!.body.access_token, 'callers still get the survivor\'s token');
  t.diagnostic(`orphaned lock lapsed ${orphanPttl} ms after the kill; waiters served ${firstServed - killedAt} ms after it; sandbox mints ${cluster.mints()}`);
});
