// Private Redis topologies for the scale-out tests: Sentinel (a master, a replica, three sentinels)
// and Cluster (three masters). Every process runs on its own free loopback port, never 6379, with
// its files in a temporary directory, and `close()` kills them all.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, pingRedis } from './redis-server.js';
import { waitFor } from './wait.js';

/** One redis-server (or sentinel) process. */
export interface RedisProcess {
  port: number;
  pid: number;
  running(): boolean;
  /** Sends `signal` (SIGKILL by default: a crash, no goodbye) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** The last lines the process wrote, for failure messages. */
  output(): string;
}

export interface SentinelTopology {
  masterName: string;
  master: RedisProcess;
  replica: RedisProcess;
  sentinels: RedisProcess[];
  /** The `redis` setting of a broker (and `@gtb/redis` createRedis) for this topology. */
  config: { mode: 'sentinel'; sentinels: { host: string; port: number }[]; name: string };
  /** The port the sentinels currently name as master (asks each sentinel until one answers). */
  masterPort(): Promise<number>;
  /** Waits until the sentinels name a master other than `oldPort` that answers as a master. */
  waitForFailover(oldPort: number, timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

export interface ClusterTopology {
  masters: RedisProcess[];
  /** The `redis` setting of a broker for this cluster. */
  config: { mode: 'cluster'; nodes: { host: string; port: number }[] };
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Starts `redis-server <args>` and resolves once it answers PING on `port`. */
async function spawnRedis(port: number, args: string[], timeoutMs = 10_000): Promise<RedisProcess> {
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => { out = (out + String(d)).slice(-4000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const proc: RedisProcess = {
    port,
    pid: child.pid ?? -1,
    running,
    output: () => out,
    async kill(signal = 'SIGKILL') {
      if (running()) child.kill(signal);
      await exited;
    },
  };
  try {
    await waitFor(`redis-server on ${port}`, async () => {
      if (!running()) throw new Error(`exited at start: ${out}`);
      return pingRedis(port, 500);
    }, { timeoutMs, intervalMs: 50 });
  } catch (err) {
    await proc.kill();
    throw err;
  }
  return proc;
}

const commonArgs = (port: number, dir: string) => [
  '--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning',
];

/** One short-lived command connection to a node (no reconnects: a dead node fails at once). */
async function withNode<T>(port: number, run: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, connectTimeout: 1000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await run(r);
  } finally {
    r.disconnect();
  }
}

/**
 * Sentinel: a master, a replica and three sentinels (quorum 2, down-after 1 s, failover-timeout 3 s).
 * Resolves once the replica is in sync and every sentinel sees a failover quorum (SENTINEL CKQUORUM).
 */
export async function startSentinelTopology(options: { masterName?: string } = {}): Promise<SentinelTopology> {
  const masterName = options.masterName ?? 'mymaster';
  const dir = await mkdtemp(join(tmpdir(), 'gtb-sentinel-'));
  const started: RedisProcess[] = [];
  const close = async () => {
    await Promise.allSettled(started.map((p) => p.kill('SIGKILL')));
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
    const masterPort = await freePort();
    const master = await spawnRedis(masterPort, commonArgs(masterPort, dir));
    started.push(master);
    const replicaPort = await freePort();
    const replica = await spawnRedis(replicaPort, [...commonArgs(replicaPort, dir), '--replicaof', HOST, String(masterPort)]);
    started.push(replica);
    await waitFor('the replica to sync', () => withNode(replicaPort, async (r) => (await r.info('replication')).includes('master_link_status:up')), { timeoutMs: 15_000, intervalMs: 100 });

    const sentinels: RedisProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const file = join(dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its own file (it records what it learns), so each gets a writable copy.
      await writeFile(file, [
        `port ${port}`, `bind ${HOST}`, `dir ${dir}`,
        `sentinel monitor ${masterName} ${HOST} ${masterPort} 2`,
        `sentinel down-after-milliseconds ${masterName} 1000`,
        `sentinel failover-timeout ${masterName} 3000`,
        `sentinel parallel-syncs ${masterName} 1`,
        '',
      ].join('\n'));
      const s = await spawnRedis(port, [file, '--sentinel', '--loglevel', 'warning']);
      started.push(s);
      sentinels.push(s);
    }
    // Sentinels find each other and the replica through the master's hello channel (every ~2 s).
    await waitFor('sentinels to see each other and the replica', async () => {
      for (const s of sentinels) {
        const ok = await withNode(s.port, async (r) => {
          const quorum = await r.call('SENTINEL', 'CKQUORUM', masterName).catch(() => '');
          const replicas = (await r.call('SENTINEL', 'REPLICAS', masterName)) as unknown[];
          const peers = (await r.call('SENTINEL', 'SENTINELS', masterName)) as unknown[];
          return String(quorum).startsWith('OK') && replicas.length >= 1 && peers.length >= 2;
        });
        if (!ok) return false;
      }
      return true;
    }, { timeoutMs: 20_000, intervalMs: 200 });

    const masterPortNow = async (): Promise<number> => {
      for (const s of sentinels) {
        if (!s.running()) continue;
        const addr = await withNode(s.port, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)).catch(() => null);
        if (Array.isArray(addr) && addr.length === 2) return Number(addr[1]);
      }
      throw new Error('no sentinel answered');
    };
    return {
      masterName, master, replica, sentinels,
      config: { mode: 'sentinel', sentinels: sentinels.map((s) => ({ host: HOST, port: s.port })), name: masterName },
      masterPort: masterPortNow,
      waitForFailover: (oldPort, timeoutMs = 20_000) => waitFor('a sentinel failover', async () => {
        const port = await masterPortNow();
        if (port === oldPort) return undefined;
        const role = await withNode(port, (r) => r.info('replication'));
        return role.includes('role:master') ? port : undefined;
      }, { timeoutMs, intervalMs: 200 }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Runs `redis-cli` with `args` (bounded by `timeoutMs`), resolving its output. */
export function redisCli(args: string[], timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Cluster: `masters` (default 3) redis-servers with cluster mode on, joined by
 * `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`. Resolves once every node says
 * `cluster_state:ok`. Each node's cluster bus gets its own free port (`cluster-port`), because
 * the default port+10000 may be taken or past 65535.
 */
export async function startRedisCluster(options: { masters?: number } = {}): Promise<ClusterTopology> {
  const count = options.masters ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'gtb-cluster-'));
  const masters: RedisProcess[] = [];
  const close = async () => {
    await Promise.allSettled(masters.map((p) => p.kill('SIGKILL')));
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const busPort = await freePort();
      masters.push(await spawnRedis(port, [
        ...commonArgs(port, dir),
        '--cluster-enabled', 'yes', '--cluster-port', String(busPort),
        '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000',
      ]));
    }
    await redisCli(['--cluster', 'create', ...masters.map((m) => `${HOST}:${m.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    await waitFor('cluster_state:ok on every node', async () => {
      for (const m of masters) {
        const info = String(await withNode(m.port, (r) => r.call('CLUSTER', 'INFO')));
        if (!info.includes('cluster_state:ok')) return false;
      }
      return true;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    return { masters, config: { mode: 'cluster', nodes: masters.map((m) => ({ host: HOST, port: m.port })) }, close };
  } catch (err) {
    await close();
    throw err;
  }
}
