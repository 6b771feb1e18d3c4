import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startSandbox } from '@gtb/sandbox';
import { startIdp } from '../fixtures/idp/index.js';
import { brokerConfigSchema } from '../../services/broker/src/config.js';
import { startBroker, type RunningBroker } from '../../services/broker/src/compose.js';
import { brokerConfigFor, CLIENTS, memoryLogger, waitUntilReady } from '../support/system.js';
import { startSentinelTopology } from '../support/redis-topology.js';
import { waitFor } from '../support/wait.js';

interface TokenBody { access_token: string; fingerprint: string }

test('two brokers on Redis Sentinel: the master is SIGKILLed, they keep serving, fail over and recover without a mint storm', { timeout: 120_000 }, async (t) => {
  // node:test runs t.after hooks in the order they were added; the brokers must stop before Redis
  // goes away (a broker's quit waits for a Redis), so cleanups run from a last-in-first-out stack.
  const cleanups: (() => Promise<unknown>)[] = [];
  t.after(async () => { for (const c of cleanups.reverse()) await c().catch(() => undefined); });
  const topology = await startSentinelTopology();
  cleanups.push(() => topology.close());
  const sandbox = await startSandbox({ port: 0, adminKey: 'test-admin-key' });
  cleanups.push(() => sandbox.close());
  const idp = await startIdp({ clients: Object.values(CLIENTS) });
  cleanups.push(() => idp.close());

  const client = { name: 'sales', ...sandbox.admin.createClient({ tokenLifetimeSeconds: 3600, name: 'sales' }) };
  const mints = () => sandbox.admin.counters().tokensMinted[client.clientId] ?? 0;
  const prefix = `test:${randomUUID()}`;
  const raw = {
    ...brokerConfigFor({ prefix, sandboxUrl: sandbox.url, issuers: [idp.issuer], audience: idp.audience, clients: [client] }),
    redis: topology.config,
  };
  const { logger } = memoryLogger('silent');
  const brokers: RunningBroker[] = [];
  for (const name of ['a', 'b']) {
    const broker = await startBroker({ config: brokerConfigSchema.parse({ ...raw, instanceId: `sentinel-${name}` }), logger });
    cleanups.push(() => broker.stop());
    brokers.push(broker);
  }
  const [a, b] = brokers as [RunningBroker, RunningBroker];
  await Promise.all(brokers.map((br) => waitUntilReady(br.url, 20_000)));

  const app = await idp.clientCredentialsToken(CLIENTS.app.client_id);
  const admin = await idp.clientCredentialsToken(CLIENTS.admin.client_id);
  const call = (br: RunningBroker, path: string, bearer = app, init: RequestInit = {}) =>
    fetch(`${br.url}${path}`, { ...init, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...init.headers } });
  const tokenFrom = async (br: RunningBroker): Promise<TokenBody> => {
    const res = await call(br, '/v1/tokens/sales');
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as TokenBody;
  };

  const first = await tokenFrom(a);
  assert.equal((await tokenFrom(b)).fingerprint, first.fingerprint, 'both replicas share one token');
  assert.equal(mints(), 1);

  // Make the cached token durable on the replica before the crash (Redis replicates asynchronously).
  const oldMasterPort = await topology.masterPort();
  assert.equal(oldMasterPort, topology.master.port);
  const direct = new Redis({ host: '127.0.0.1', port: oldMasterPort, maxRetriesPerRequest: 0, retryStrategy: () => null });
  direct.on('error', () => undefined);
  assert.equal(await direct.call('WAIT', '1', '5000'), 1, 'the replica acknowledged the writes');
  direct.disconnect();

  // Crash the master while both brokers are being called; they answer from memory meanwhile.
  await topology.master.kill('SIGKILL');
  const statuses = new Map<number, number>();
  let failedOver = false;
  const newMasterPromise = topology.waitForFailover(oldMasterPort, 30_000).finally(() => { failedOver = true; });
  const load = (async () => {
    while (!failedOver) {
      for (const br of brokers) {
        const res = await call(br, '/v1/tokens/sales');
        const body = (await res.json()) as TokenBody;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200) assert.equal(body.fingerprint, first.fingerprint);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const newMasterPort = await newMasterPromise;
  await load;
  assert.equal(newMasterPort, topology.replica.port, 'the replica was promoted');
  assert.deepEqual([...statuses.keys()], [200], `every call during the failover was served: ${JSON.stringify([...statuses])}`);
  t.diagnostic(`served ${statuses.get(200)} calls while the sentinels failed over to ${newMasterPort}`);

  // Both replicas find the new master through the sentinels and report ready again.
  await Promise.all(brokers.map((br) => waitUntilReady(br.url, 30_000)));

  // Writes work on the new master: a lease (Redis sorted set + record).
  const lease = await waitFor('a lease on the new master', async () => {
    const res = await call(b, '/v1/leases', app, { method: 'POST', body: JSON.stringify({ profile: 'sales', holder: 'sentinel-test' }) });
    return res.status === 201 ? ((await res.json()) as { lease_id: string }) : undefined;
  }, { timeoutMs: 20_000, intervalMs: 200 });
  assert.ok(lease.lease_id);
  assert.equal(mints(), 1, 'the failover itself caused no mint');

  // A rotation through the new master reaches the other replica over pub/sub (re-subscribed).
  const rotated = await call(a, '/v1/profiles/sales/rotate', admin, { method: 'POST' });
  assert.equal(rotated.status, 200, await rotated.clone().text());
  const fresh = (await rotated.json()) as TokenBody;
  assert.notEqual(fresh.fingerprint, first.fingerprint);
  await waitFor('replica b to serve the rotated token', async () => (await tokenFrom(b)).fingerprint === fresh.fingerprint, { timeoutMs: 20_000, intervalMs: 100 });
  assert.ok(mints() <= 2, `no mint storm: the sandbox minted ${mints()} tokens`);
  assert.equal(mints(), 2, 'one initial mint and one rotation');
});
