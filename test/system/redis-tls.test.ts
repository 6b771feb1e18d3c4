// Redis over TLS in each mode, against TLS-only redis-servers this file starts (plain port off), with
// certificates from a CA made at test time. The settings go through the real configuration loader,
// PEM files given as `caFile`/`certFile`/`keyFile` as an operator would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '@gtb/config';
import { createRedis, redisConfigSchema, waitReady, type RedisClient, type RedisConfig } from '@gtb/redis';
import { createTestCa } from '../support/test-certs.js';
import { startTlsCluster, startTlsRedis, startTlsSentinel } from '../support/redis-tls-topology.js';

const PASSWORD = `pw-${randomUUID()}`;

/** Loads `{ redis }` from a YAML-equivalent JSON file through @gtb/config (secret refs resolved). */
function loadRedisConfig(redis: Record<string, unknown>, t: { after(fn: () => void): void }): RedisConfig {
  const dir = mkdtempSync(join(tmpdir(), 'gtb-redis-tls-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ redis }));
  return loadConfig(z.object({ redis: redisConfigSchema }), { file, env: {}, envPrefix: 'GTB_TLS_TEST_' }).redis;
}

/** A client that must not get ready: resolves with the first connection error ioredis reports. */
async function firstError(client: RedisClient, timeoutMs = 10_000): Promise<string> {
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no error within ${timeoutMs} ms (status ${client.status})`)), timeoutMs);
      client.once('error', (err: Error) => { clearTimeout(timer); resolve(`${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`); });
      client.once('ready', () => { clearTimeout(timer); reject(new Error('connected, but should not have')); });
    });
  } finally {
    client.disconnect();
  }
}

async function roundTrip(client: RedisClient, keys: string[]): Promise<void> {
  await waitReady(client, 15_000);
  for (const key of keys) await client.set(key, key, 'PX', 30_000);
  for (const key of keys) assert.equal(await client.get(key), key);
  for (const key of keys) await client.del(key);
}

test('standalone over TLS: rediss:// with the CA from caFile; without the CA the server certificate is refused; mutual TLS', async (t) => {
  const ca = await createTestCa();
  const redis = await startTlsRedis(ca, await ca.issue(), { password: PASSWORD });
  t.after(() => redis.close());
  const url = `rediss://:${PASSWORD}@127.0.0.1:${redis.port}`;

  const config = loadRedisConfig({ mode: 'standalone', url, tls: { caFile: redis.files.caFile } }, t);
  assert.ok(config.mode === 'standalone' && config.tls?.ca?.includes('BEGIN CERTIFICATE') && config.tls.rejectUnauthorized);
  const client = createRedis(config, { connectionName: 'tls-test' });
  t.after(() => client.disconnect());
  const prefix = `test:${randomUUID()}`;
  await roundTrip(client, [`${prefix}:a`]);
  // The server confirms the connection is TLS (CLIENT INFO does not say; the plain port is off).
  assert.match(String(await client.call('CONFIG', 'GET', 'port')), /port,0/);

  // rediss:// without the private CA: the system roots do not know it, the handshake is refused.
  const noCa = createRedis({ mode: 'standalone', url }, { failFast: true });
  assert.match(await firstError(noCa), /self[- ]signed|unable to (get|verify)|SELF_SIGNED|UNABLE_TO/i);
  // A plain-TCP client on the TLS port gets nowhere either.
  const plain = createRedis({ mode: 'standalone', url: url.replace('rediss:', 'redis:') }, { failFast: true });
  plain.on('error', () => undefined);
  await assert.rejects(Promise.race([waitReady(plain, 3000), new Promise((_, reject) => setTimeout(() => reject(new Error('not ready')), 3500))]));
  plain.disconnect();

  // Mutual TLS: a server that demands a client certificate refuses a client without one.
  const mtls = await startTlsRedis(ca, await ca.issue(), { password: PASSWORD, authClients: 'yes' });
  t.after(() => mtls.close());
  const mtlsUrl = `rediss://:${PASSWORD}@127.0.0.1:${mtls.port}`;
  const anonymous = createRedis(loadRedisConfig({ mode: 'standalone', url: mtlsUrl, tls: { caFile: mtls.files.caFile } }, t), { failFast: true });
  await firstError(anonymous); // the server drops the handshake (the message depends on the TLS version)
  const certDirFiles = mkdtempSync(join(tmpdir(), 'gtb-client-cert-'));
  t.after(() => rmSync(certDirFiles, { recursive: true, force: true }));
  writeFileSync(join(certDirFiles, 'client.crt'), mtls.files.client.cert);
  writeFileSync(join(certDirFiles, 'client.key'), mtls.files.client.key);
  const withCert = createRedis(loadRedisConfig({
    mode: 'standalone', url: mtlsUrl,
    tls: { caFile: mtls.files.caFile, certFile: join(certDirFiles, 'client.crt'), keyFile: join(certDirFiles, 'client.key') },
  }, t));
  t.after(() => withCert.disconnect());
  await roundTrip(withCert, [`${prefix}:m`]);
});

test('Sentinel over TLS: the sentinel and the master it names are reached over TLS (sentinelTLS + enableTLSForSentinelMode)', async (t) => {
  const ca = await createTestCa();
  const topo = await startTlsSentinel(ca, await ca.issue(), { password: PASSWORD });
  t.after(() => topo.close());
  const config = loadRedisConfig({
    mode: 'sentinel', name: topo.masterName, sentinels: [{ host: '127.0.0.1', port: topo.sentinelPort }],
    password: PASSWORD, tls: { caFile: topo.files.caFile },
  }, t);
  const client = createRedis(config, { connectionName: 'tls-sentinel-test' });
  t.after(() => client.disconnect());
  const prefix = `test:${randomUUID()}`;
  await roundTrip(client, [`${prefix}:a`, `${prefix}:b`]);
  assert.equal(Number(String(await client.call('CONFIG', 'GET', 'tls-port')).split(',')[1]), topo.masterPort, 'connected to the master, on its TLS port');

  // Without TLS the sentinel (plain port off) cannot be asked at all.
  const plain = createRedis({ mode: 'sentinel', name: topo.masterName, sentinels: [{ host: '127.0.0.1', port: topo.sentinelPort }], password: PASSWORD, db: 0 }, { failFast: true });
  assert.match(await firstError(plain), /All sentinels are unreachable|sentinel/i);
});

test('Cluster over TLS: every node over TLS; certificates that name no IP verify through tls.servername', async (t) => {
  const ca = await createTestCa();
  // Nodes announce 127.0.0.1 in CLUSTER SLOTS; this certificate names only redis.test.
  const topo = await startTlsCluster(ca, await ca.issue({ names: ['redis.test'], ips: [] }), { password: PASSWORD });
  t.after(() => topo.close());
  const nodes = topo.ports.map((port) => ({ host: '127.0.0.1', port }));

  const config = loadRedisConfig({ mode: 'cluster', nodes, password: PASSWORD, tls: { caFile: topo.files.caFile, servername: 'redis.test' } }, t);
  const client = createRedis(config, { connectionName: 'tls-cluster-test' });
  t.after(() => client.disconnect());
  // Keys in many slots, so that every master is written to.
  const keys = Array.from({ length: 30 }, (_, i) => `test:${randomUUID()}:${i}`);
  await roundTrip(client, keys);

  // Without servername the certificate does not match the address: refused, not connected.
  const unnamed = createRedis({ mode: 'cluster', nodes, password: PASSWORD, tls: { ca: ca.cert, rejectUnauthorized: true } }, { failFast: true });
  unnamed.on('node error', () => undefined);
  const err = await new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve(`no error (status ${unnamed.status})`), 10_000);
    unnamed.once('node error', (e: Error) => { clearTimeout(timer); resolve(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`); });
  });
  unnamed.disconnect();
  assert.match(err, /ERR_TLS_CERT_ALTNAME_INVALID|altnames/i);
});
