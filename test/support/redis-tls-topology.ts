// Private TLS-only Redis processes for the TLS tests: a standalone server, a Sentinel group (a master
// and one sentinel) and a three-master Cluster. Every process listens on a free loopback TLS port
// with its plain port off (`port 0`), so a client that does not speak TLS gets nowhere; `close()`
// kills them all. Certificates come from test/support/test-certs.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { freePort } from './redis-server.js';
import { redisCli } from './redis-topology.js';
import { certDir, type CertPair, type TestCa } from './test-certs.js';
import { waitFor } from './wait.js';

const HOST = '127.0.0.1';
const live = new Set<ChildProcess>();
process.once('exit', () => { for (const child of live) child.kill('SIGKILL'); });

/** PEM files a server (and the clients of a mutual-TLS server) use. */
export interface TlsFiles { caFile: string; certFile: string; keyFile: string; ca: string; client: CertPair }

export interface TlsRedis { port: number; output(): string }

export interface TlsTopology {
  files: TlsFiles;
  close(): Promise<void>;
}

/**
 * True when a TLS handshake with `port` succeeds (trusting `ca`, presenting `client`) and the server
 * answers PING: `+PONG`, or `-NOAUTH` when it wants a password (it is up all the same).
 */
export function tlsPing(port: number, ca: string, client?: CertPair, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    // The server certificates of these tests may name no IP: the check here is the chain only.
    const socket = connect({ host: HOST, port, ca, ...(client ? { cert: client.cert, key: client.key } : {}), checkServerIdentity: () => undefined });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('secureConnect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(/^(\+PONG|-NOAUTH)/.test(String(d))));
  });
}

async function spawnTlsRedis(port: number, args: string[], files: TlsFiles): Promise<TlsRedis & { kill(): Promise<void> }> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  const keep = (d: Buffer) => { out = (out + String(d)).slice(-4000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => { live.delete(child); r(); }));
  const running = () => child.exitCode === null && child.signalCode === null;
  const kill = async () => { if (running()) child.kill('SIGKILL'); await exited; };
  try {
    await waitFor(`TLS redis-server on ${port}`, async () => {
      if (!running()) throw new Error(`exited at start: ${out}`);
      return tlsPing(port, files.ca, files.client, 500);
    }, { timeoutMs: 10_000, intervalMs: 50 });
  } catch (err) {
    await kill();
    throw err;
  }
  return { port, output: () => out, kill };
}

/** TLS settings of a redis-server (or sentinel) process, plain TCP off. */
const tlsArgs = (port: number, files: TlsFiles, authClients: 'yes' | 'no' | 'optional') => [
  '--port', '0', '--tls-port', String(port), '--bind', HOST,
  '--tls-cert-file', files.certFile, '--tls-key-file', files.keyFile, '--tls-ca-cert-file', files.caFile,
  '--tls-auth-clients', authClients,
];
const quiet = (dir: string) => ['--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];

async function setUp(ca: TestCa, server: CertPair): Promise<{ files: TlsFiles; dir: string; cleanup(): Promise<void> }> {
  const certs = await certDir();
  const client = await ca.issue({ commonName: 'gtb-test-client' });
  const files: TlsFiles = {
    caFile: await certs.write('ca.crt', ca.cert),
    certFile: await certs.write('redis.crt', server.cert),
    keyFile: await certs.write('redis.key', server.key),
    ca: ca.cert,
    client,
  };
  const dir = await mkdtemp(join(tmpdir(), 'gtb-redis-tls-'));
  return { files, dir, cleanup: async () => { await certs.close(); await rm(dir, { recursive: true, force: true }); } };
}

/** One TLS-only redis-server with `password`; `authClients: 'yes'` makes it demand a client certificate. */
export async function startTlsRedis(ca: TestCa, server: CertPair, options: { password: string; authClients?: 'yes' | 'no' }): Promise<TlsTopology & TlsRedis> {
  const { files, dir, cleanup } = await setUp(ca, server);
  const port = await freePort();
  try {
    const proc = await spawnTlsRedis(port, [...tlsArgs(port, files, options.authClients ?? 'no'), ...quiet(dir), '--requirepass', options.password], files);
    return { ...proc, files, close: async () => { await proc.kill(); await cleanup(); } };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** A TLS-only master with `password` and one TLS-only sentinel (quorum 1) that reaches it over TLS. */
export async function startTlsSentinel(ca: TestCa, server: CertPair, options: { password: string; masterName?: string }): Promise<TlsTopology & { masterName: string; masterPort: number; sentinelPort: number }> {
  const masterName = options.masterName ?? 'tlsmaster';
  const { files, dir, cleanup } = await setUp(ca, server);
  const started: { kill(): Promise<void> }[] = [];
  const close = async () => { await Promise.allSettled(started.map((p) => p.kill())); await cleanup(); };
  try {
    const masterPort = await freePort();
    started.push(await spawnTlsRedis(masterPort, [...tlsArgs(masterPort, files, 'no'), ...quiet(dir), '--requirepass', options.password, '--masterauth', options.password], files));
    const sentinelPort = await freePort();
    const conf = join(dir, `sentinel-${sentinelPort}.conf`);
    // Sentinel rewrites its file as it learns; `tls-replication yes` makes it reach the master over TLS.
    await writeFile(conf, [
      'port 0', `tls-port ${sentinelPort}`, `bind ${HOST}`, `dir ${dir}`,
      `tls-cert-file ${files.certFile}`, `tls-key-file ${files.keyFile}`, `tls-ca-cert-file ${files.caFile}`,
      'tls-auth-clients no', 'tls-replication yes',
      `sentinel monitor ${masterName} ${HOST} ${masterPort} 1`,
      `sentinel auth-pass ${masterName} ${options.password}`,
      `sentinel down-after-milliseconds ${masterName} 5000`,
      '',
    ].join('\n'));
    started.push(await spawnTlsRedis(sentinelPort, [conf, '--sentinel', '--loglevel', 'warning'], files));
    return { files, masterName, masterPort, sentinelPort, close };
  } catch (err) {
    await close();
    throw err;
  }
}


/**
 * Three TLS-only masters with the cluster bus over TLS too (`tls-cluster yes`) and `password`,
 * joined with `redis-cli --tls --cluster create`. Resolves once every node says `cluster_state:ok`.
 */
export async function startTlsCluster(ca: TestCa, server: CertPair, options: { password: string }): Promise<TlsTopology & { ports: number[] }> {
  const { files, dir, cleanup } = await setUp(ca, server);
  const started: (TlsRedis & { kill(): Promise<void> })[] = [];
  const close = async () => { await Promise.allSettled(started.map((p) => p.kill())); await cleanup(); };
  const cli = ['--tls', '--cacert', files.caFile, '--cert', files.certFile, '--key', files.keyFile, '-a', options.password, '--no-auth-warning'];
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const busPort = await freePort();
      started.push(await spawnTlsRedis(port, [
        ...tlsArgs(port, files, 'no'), ...quiet(dir), '--requirepass', options.password, '--masterauth', options.password,
        '--cluster-enabled', 'yes', '--tls-cluster', 'yes', '--cluster-port', String(busPort),
        '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000',
      ], files));
    }
    await redisCli([...cli, '--cluster', 'create', ...started.map((p) => `${HOST}:${p.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    await waitFor('cluster_state:ok on every TLS node', async () => {
      for (const p of started) {
        const info = await redisCli([...cli, '-h', HOST, '-p', String(p.port), 'CLUSTER', 'INFO']);
        if (!info.includes('cluster_state:ok')) return false;
      }
      return true;
    }, { timeoutMs: 20_000, intervalMs: 200 });
    return { files, ports: started.map((p) => p.port), close };
  } catch (err) {
    await close();
    throw err;
  }
}
