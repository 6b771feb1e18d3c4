import { randomUUID } from 'node:crypto';
import { startSandbox, type RunningSandbox, type SandboxOptions } from '@gtb/sandbox';
import { createRedis, waitReady, type RedisClient } from '@gtb/redis';
import { startIdp, type TestIdp } from '../fixtures/idp/index.js';
import { brokerConfigFor, CLIENTS, REDIS_URL } from './system.js';
import { spawnBrokers, type BrokerProcess } from './processes.js';

export interface ClusterOptions {
  replicas: number;
  profiles?: string[];
  /** Genesys token lifetime of the sandbox clients, seconds. */
  tokenLifetimeSeconds?: number;
  minTtlSeconds?: number;
  /** Refresh policy fields merged over the generated one (`at`, `jitter`). */
  refresh?: { at?: number; jitter?: number };
  /** Redis the brokers use (a private server's URL); the shared test Redis by default. */
  redisUrl?: string;
  /** Extra top-level broker settings (e.g. `tokens`). */
  brokerOverrides?: Record<string, unknown>;
  sandbox?: SandboxOptions;
  /** Skip waiting for `/readyz` 200 (brokers started with Redis down). */
  waitReady?: boolean;
  /** Extra environment of the broker processes (OTEL_* for a tracing test). */
  brokerEnv?: Record<string, string>;
}

/** Sandbox + two IdPs + N broker processes on one Redis key prefix; `close()` undoes all of it. */
export interface Cluster {
  prefix: string;
  sandbox: RunningSandbox;
  idp: TestIdp;
  otherIdp: TestIdp;
  brokers: BrokerProcess[];
  /** The broker configuration the processes were started with (pre-parse). */
  config: Record<string, unknown>;
  /** A client on the same Redis as the brokers, for reading keys. */
  redis: RedisClient;
  /** Sandbox client id of each profile. */
  clientIds: Record<string, string>;
  /** An IdP access token of a test client (cached). */
  tokenFor(client: keyof typeof CLIENTS): Promise<string>;
  /** Tokens the sandbox minted for a profile since start. */
  mints(profile?: string): number;
  /** Token requests of a profile the sandbox refused as throttled. */
  throttled(profile?: string): number;
  close(): Promise<void>;
}

/** Starts a multi-process system on loopback. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const prefix = `test:${randomUUID()}`;
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const sandbox = await startSandbox({ port: 0, adminKey: 'test-admin-key', ...options.sandbox });
  const idp = await startIdp({ clients: Object.values(CLIENTS) });
  const otherIdp = await startIdp({ clients: Object.values(CLIENTS) });
  const redis = createRedis({ mode: 'standalone', url: redisUrl });
  redis.on('error', () => undefined); // outage tests stop this Redis on purpose
  const closeSupport = async () => {
    await Promise.allSettled([idp.close(), otherIdp.close(), sandbox.close()]);
  };
  try {
    await waitReady(redis);
    const profiles = options.profiles ?? ['sales'];
    const clients = profiles.map((name) => ({ name, ...sandbox.admin.createClient({ tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600, name }) }));
    const base = brokerConfigFor({ prefix, sandboxUrl: sandbox.url, issuers: [idp.issuer, otherIdp.issuer], audience: idp.audience, clients, minTtlSeconds: options.minTtlSeconds });
    const config: Record<string, unknown> = {
      ...base,
      instanceId: `sys-${prefix.slice(5, 13)}`,
      logLevel: 'info',
      redis: { mode: 'standalone', url: redisUrl },
      profiles: base.profiles.map((p) => ({ ...p, refresh: { ...p.refresh, ...options.refresh } })),
      ...options.brokerOverrides,
    };
    const brokers = await spawnBrokers(options.replicas, config, { waitReady: options.waitReady, ...(options.brokerEnv ? { env: options.brokerEnv } : {}) });
    const clientIds = Object.fromEntries(clients.map((c) => [c.name, c.clientId]));
    const tokens = new Map<string, string>();
    const first = profiles[0]!;
    const count = (map: Record<string, number>, profile: string) => map[clientIds[profile] ?? ''] ?? 0;
    return {
      prefix, sandbox, idp, otherIdp, brokers, config, redis, clientIds,
      async tokenFor(client) {
        let t = tokens.get(client);
        if (!t) {
          t = await idp.clientCredentialsToken(CLIENTS[client].client_id);
          tokens.set(client, t);
        }
        return t;
      },
      mints: (profile = first) => count(sandbox.admin.counters().tokensMinted, profile),
      throttled: (profile = first) => count(sandbox.admin.counters().tokenRequestsRejected, profile),
      async close() {
        await Promise.allSettled(brokers.map((b) => b.kill()));
        try {
          if (redis.status === 'ready') {
            const keys = await redis.keys(`${prefix}:*`);
            if (keys.length) await redis.del(...keys);
          }
        } finally {
          redis.disconnect();
          await closeSupport();
        }
      },
    };
  } catch (err) {
    redis.disconnect();
    await closeSupport();
    throw err;
  }
}
