// The broker's HTTPS listener: certificates made by a private CA at test time, a client that
// trusts that CA, and renewals written the way a Kubernetes secret volume writes them (a new
// directory, then an atomic swap of the `..data` symlink), picked up without a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { startSystem, startReplica, memoryLogger, type TestSystem } from '../../../test/support/system.js';
import { certDir, createTestCa, type CertPair } from '../../../test/support/test-certs.js';
import { waitFor } from '../../../test/support/wait.js';
import type { RunningBroker } from '../src/compose.js';
import { createBrokerListener } from '../src/http/tls-listener.js';

interface Answer { status: number; body: string; serial: string }

/** One GET on a new connection (no agent), trusting only `ca`; reports the served certificate's serial. */
function httpsGet(url: string, ca: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers, agent: false, timeout: 10_000 }, (res) => {
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * A directory laid out as kubelet lays out a secret volume: `tls.crt` and `tls.key` are symlinks
 * into `..data`, itself a symlink to a timestamped directory; `renew()` writes a new directory and
 * swaps `..data` atomically, as a rotation by cert-manager does.
 */
async function secretVolume(root: string, first: CertPair) {
  let generation = 0;
  const put = async (pair: { cert: string; key: string }) => {
    const dir = `..${++generation}`;
    await mkdir(join(root, dir));
    await writeFile(join(root, dir, 'tls.crt'), pair.cert);
    await writeFile(join(root, dir, 'tls.key'), pair.key, { mode: 0o600 });
    await symlink(dir, join(root, '..data_tmp'));
    await rename(join(root, '..data_tmp'), join(root, '..data'));
  };
  await put(first);
  await symlink('..data/tls.crt', join(root, 'tls.crt'));
  await symlink('..data/tls.key', join(root, 'tls.key'));
  return { certPath: join(root, 'tls.crt'), keyPath: join(root, 'tls.key'), renew: put };
}

async function startTlsBroker(sys: TestSystem, tls: Record<string, unknown>, logger = memoryLogger('silent').logger): Promise<RunningBroker> {
  return startReplica(sys, { http: { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 2000, tls }, instanceId: 'tls' }, logger);
}

test('the broker serves HTTPS: a client trusting the private CA gets a token, one trusting the system roots is refused', async (t) => {
  const ca = await createTestCa();
  const leaf = await ca.issue();
  const files = await certDir();
  t.after(() => files.close());
  const sys = await startSystem();
  t.after(() => sys.close());
  const broker = await startTlsBroker(sys, { certPath: await files.write('tls.crt', leaf.cert), keyPath: await files.write('tls.key', leaf.key) });
  t.after(() => broker.stop());

  assert.match(broker.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  await waitFor('the TLS broker to be ready', async () => (await httpsGet(`${broker.url}/readyz`, ca.cert)).status === 200, { timeoutMs: 20_000, intervalMs: 100 });
  const res = await httpsGet(`${broker.url}/v1/tokens/sales`, ca.cert, { authorization: `Bearer ${await sys.tokenFor('app')}` });
  assert.equal(res.status, 200, res.body);
  assert.equal(res.serial, leaf.serial, 'the configured certificate is served');
  const body = JSON.parse(res.body) as { access_token?: string; profile?: string };
  assert.equal(body.profile, 'sales');
  assert.ok(body.access_token && body.access_token.length > 10);

  // Node's fetch trusts only the system roots: the private CA's certificate is refused.
  await assert.rejects(fetch(`${broker.url}/healthz`), (err: Error) => /self[- ]signed|unable to (get|verify)/i.test(String((err.cause as Error | undefined)?.message ?? err.message)));
  // Plain HTTP to the TLS port gets no HTTP answer.
  await assert.rejects(fetch(`${broker.url.replace('https:', 'http:')}/healthz`));
});

test('a renewed certificate is served to new connections without a restart; a bad pair is logged and the old one kept', async (t) => {
  const ca = await createTestCa();
  const [first, second, third] = await Promise.all([ca.issue(), ca.issue(), ca.issue()]);
  const files = await certDir();
  t.after(() => files.close());
  const volume = await secretVolume(files.dir, first!);
  const sys = await startSystem();
  t.after(() => sys.close());
  const { logger, lines } = memoryLogger('info');
  const broker = await startTlsBroker(sys, { certPath: volume.certPath, keyPath: volume.keyPath, reloadIntervalMs: 200 }, logger);
  t.after(() => broker.stop());
  const serial = async () => (await httpsGet(`${broker.url}/healthz`, ca.cert)).serial;
  assert.equal(await serial(), first!.serial);

  await volume.renew(second!);
  await waitFor('the renewed certificate to be served', async () => (await serial()) === second!.serial, { timeoutMs: 15_000, intervalMs: 100 });

  // A renewal gone wrong: the new certificate with a key that is not its own. Served: the last good pair.
  await volume.renew({ cert: third!.cert, key: first!.key });
  await waitFor('the bad pair to be reported', () => lines.some((l) => l.includes('does not load; keeping the current pair')), { timeoutMs: 15_000, intervalMs: 100 });
  assert.equal(await serial(), second!.serial, 'the previous certificate is still served');
  assert.equal((await httpsGet(`${broker.url}/healthz`, ca.cert)).status, 200);
  // Reported once, not at every check.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(lines.filter((l) => l.includes('does not load; keeping the current pair')).length, 1);

  // The operator fixes the secret: the good third pair is picked up.
  await volume.renew(third!);
  await waitFor('the fixed pair to be served', async () => (await serial()) === third!.serial, { timeoutMs: 15_000, intervalMs: 100 });
  const reloaded = lines.filter((l) => l.includes('TLS certificate reloaded')).map((l) => JSON.parse(l) as { serial: string });
  assert.deepEqual(reloaded.map((l) => l.serial), [second!.serial, third!.serial]);
  for (const pair of [first!, second!, third!]) {
    const keyBody = pair.key.split('\n')[1]!;
    assert.ok(!lines.some((l) => l.includes(keyBody)), 'no private key in the logs');
  }
});

test('a listener whose files do not load refuses to start, naming the setting', async (t) => {
  const ca = await createTestCa();
  const [a, b] = await Promise.all([ca.issue(), ca.issue()]);
  const files = await certDir();
  t.after(() => files.close());
  const { logger } = memoryLogger('silent');
  const app = () => undefined;
  assert.throws(() => createBrokerListener(app, { certPath: join(files.dir, 'missing.crt'), keyPath: join(files.dir, 'missing.key'), reloadIntervalMs: 1000 }, logger),
    (err: Error & { code?: string }) => err.code === 'ERR_CONFIG_FILE' && /http\.tls/.test(err.message) && /ENOENT/.test(err.message));
  const certPath = await files.write('a.crt', a.cert);
  const keyPath = await files.write('b.key', b.key);
  assert.throws(() => createBrokerListener(app, { certPath, keyPath, reloadIntervalMs: 1000 }, logger),
    (err: Error & { code?: string }) => err.code === 'ERR_CONFIG_INVALID' && /key values mismatch/.test(err.message));
  // Without tls: plain HTTP, nothing to reload.
  const plain = createBrokerListener(app, undefined, logger);
  assert.equal(plain.scheme, 'http');
  assert.equal(await plain.reload(), 'unchanged');
});
