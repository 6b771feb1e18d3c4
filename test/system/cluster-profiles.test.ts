import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startSandbox } from '@gtb/sandbox';
import { createKeys } from '@gtb/redis';
import { startIdp } from '../fixtures/idp/index.js';
import { brokerConfigSchema } from '../../services/broker/src/config.js';
import { startBroker, type RunningBroker } from '../../services/broker/src/compose.js';
import { brokerConfigFor, CLIENTS, memoryLogger, waitUntilReady } from '../support/system.js';
import { startRedisCluster } from '../support/redis-topology.js';

const PROFILES = ['sales', 'support', 'billing', 'claims', 'outbound', 'quality'];

interface TokenBody { access_token: string; fingerprint: string; profile: string }

test('brokers on a three-master Redis Cluster: six profiles, one hash tag each, spread over the nodes, one mint each', { timeout: 90_000 }, async (t) => {
  // t.after hooks run in the order they were added: a last-in-first-out stack stops the brokers first.
  const cleanups: (() => Promise<unknown>)[] = [];
  t.after(async () => { for (const c of cleanups.reverse()) await c().catch(() => undefined); });
  const cluster = await startRedisCluster();
  cleanups.push(() => cluster.close());
  const sandbox = await startSandbox({ port: 0, adminKey: 'test-admin-key' });
  cleanups.push(() => sandbox.close());
  const idp = await startIdp({ clients: Object.values(CLIENTS) });
  cleanups.push(() => idp.close());

  const clients = PROFILES.map((name) => ({ name, ...sandbox.admin.createClient({ tokenLifetimeSeconds: 3600, name }) }));
  const mints = (profile: string) => sandbox.admin.counters().tokensMinted[clients.find((c) => c.name === profile)!.clientId] ?? 0;
  const prefix = `test:${randomUUID()}`;
  const raw = {
    ...brokerConfigFor({ prefix, sandboxUrl: sandbox.url, issuers: [idp.issuer], audience: idp.audience, clients }),
    redis: cluster.config,
  };
  const { logger } = memoryLogger('silent');
  const brokers: RunningBroker[] = [];
  for (const name of ['a', 'b']) {
    const broker = await startBroker({ config: brokerConfigSchema.parse({ ...raw, instanceId: `cluster-${name}` }), logger });
    cleanups.push(() => broker.stop());
    brokers.push(broker);
  }
  await Promise.all(brokers.map((br) => waitUntilReady(br.url, 20_000)));
  const app = await idp.clientCredentialsToken(CLIENTS.app.client_id);
  const call = (br: RunningBroker, path: string, init: RequestInit = {}) =>
    fetch(`${br.url}${path}`, { ...init, headers: { authorization: `Bearer ${app}`, 'content-type': 'application/json' } });

  // Every profile works from both replicas (in parallel: the mint lock is per profile) and is minted once.
  const answers = await Promise.all(PROFILES.flatMap((profile) => brokers.map(async (br) => {
    const res = await call(br, `/v1/tokens/${profile}`);
    assert.equal(res.status, 200, `${profile}: ${await res.clone().text()}`);
    return (await res.json()) as TokenBody;
  })));
  for (const profile of PROFILES) {
    const fps = new Set(answers.filter((a) => a.profile === profile).map((a) => a.fingerprint));
    assert.equal(fps.size, 1, `${profile}: both replicas hand out one token`);
    assert.equal(mints(profile), 1, `${profile}: one upstream mint`);
  }
  // Leases use MULTI and a two-key Lua script: they must stay within one slot.
  for (const profile of PROFILES) {
    const res = await call(brokers[1]!, '/v1/leases', { method: 'POST', body: JSON.stringify({ profile, holder: 'cluster-test' }) });
    assert.equal(res.status, 201, `${profile}: ${await res.clone().text()}`);
    const { lease_id: id } = (await res.json()) as { lease_id: string };
    const renewed = await call(brokers[0]!, `/v1/leases/${id}/renew`, { method: 'POST' });
    assert.equal(renewed.status, 200, `${profile} renew: ${await renewed.clone().text()}`);
  }

  // Every key each profile has in the cluster (read from each master) shares the profile's slot.
  const nodes = cluster.masters.map((m) => new Redis({ host: '127.0.0.1', port: m.port, maxRetriesPerRequest: 1 }));
  cleanups.push(async () => { for (const n of nodes) n.disconnect(); });
  const slotOf = async (key: string) => Number(await nodes[0]!.call('CLUSTER', 'KEYSLOT', key));
  const found = new Map<string, { keys: string[]; nodes: Set<number> }>();
  for (const [i, node] of nodes.entries()) {
    for (const key of await node.keys(`${prefix}:{*}:*`)) {
      const profile = /^.*?:\{([^}]+)\}:/.exec(key.slice(prefix.length))?.[1] ?? '';
      if (!PROFILES.includes(profile)) continue;
      const entry = found.get(profile) ?? { keys: [], nodes: new Set<number>() };
      entry.keys.push(key);
      entry.nodes.add(i);
      found.set(profile, entry);
    }
  }
  const keys = createKeys(prefix);
  const slots = new Map<string, number>();
  for (const profile of PROFILES) {
    const entry = found.get(profile);
    assert.ok(entry && entry.keys.some((k) => k === keys.token(profile)), `${profile}: its token is in the cluster`);
    assert.equal(entry.nodes.size, 1, `${profile}: all its keys live on one node`);
    const named = [keys.token(profile), keys.lock(profile), keys.fence(profile), keys.cooldown(profile), keys.tokenNotices(profile),
      keys.leases(profile), keys.lease(profile, 'x'), ...entry.keys];
    const profileSlots = new Set(await Promise.all(named.map(slotOf)));
    assert.equal(profileSlots.size, 1, `${profile}: every key shares one hash slot (${[...profileSlots].join(', ')})`);
    slots.set(profile, [...profileSlots][0]!);
  }
  // The per-caller rate limit counts in the cluster too, not bypassed. Replicas sync their counts
  // with Redis when a request finds them older than 100 ms, so one more request per replica after a
  // pause flushes what each counted: then every request of the app (12 token reads, 6 grants, 6
  // renewals, 2 flushes) is in the shared count, none slipped by on a store error.
  await new Promise((r) => setTimeout(r, 200));
  for (const br of brokers) assert.equal((await call(br, `/v1/tokens/${PROFILES[0]}`)).status, 200);
  const counted = await Promise.all(nodes.map(async (n) => {
    // Every window's key: the requests may straddle a minute boundary.
    const found = await n.keys(`${prefix}:rl:{*demo-app}:*`);
    const values = await Promise.all(found.map((k) => n.get(k)));
    return values.reduce((sum, v) => sum + Number(v ?? 0), 0);
  }));
  assert.equal(counted.reduce((x, y) => x + y, 0), PROFILES.length * 4 + brokers.length, 'the per-caller rate limit counts every request in the cluster');
  const nodesUsed = new Set([...found.values()].map((e) => [...e.nodes][0]));
  assert.ok(new Set(slots.values()).size >= 4, `profiles spread over slots: ${JSON.stringify([...slots])}`);
  assert.ok(nodesUsed.size >= 2, `profiles spread over ${nodesUsed.size} of ${nodes.length} nodes`);
  t.diagnostic(`slots ${JSON.stringify(Object.fromEntries(slots))}; ${nodesUsed.size} nodes hold profiles`);
});
