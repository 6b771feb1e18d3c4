import type { RequestListener } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { startSandbox, type RunningSandbox, type SandboxOptions } from '@gtb/sandbox';
import { createLogger, type Logger } from '@gtb/logger';
import { createRedis, waitReady, type RedisClient } from '@gtb/redis';
import { startIdp, type IdpClient, type TestIdp } from '../fixtures/idp/index.js';
import { brokerConfigSchema, type BrokerConfig } from '../../services/broker/src/config.js';
import { startBroker, type RunningBroker } from '../../services/broker/src/compose.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The IdP clients every system test has: an app allowed `sales`, an admin, and one allowed nothing. */
export const CLIENTS = {
  app: { client_id: 'demo-app', client_secret: 'demo-app-secret', extraClaims: { groups: ['sales-apps'] } },
  admin: { client_id: 'ops-admin', client_secret: 'ops-admin-secret', extraClaims: { roles: ['gtb-admin'] } },
  stranger: { client_id: 'stranger', client_secret: 'stranger-secret' },
  streamer: { client_id: 'streamer', client_secret: 'streamer-secret', extraClaims: { groups: ['sales-apps'] } },
};

export interface SystemOptions {
  /** Genesys token lifetime of the sandbox client(s), seconds. */
  tokenLifetimeSeconds?: number;
  profiles?: string[];
  minTtlSeconds?: number;
  logLevel?: 'silent' | 'info' | 'debug';
  /** Extra broker config merged over the generated one; a function gets the started IdPs (for rules bound to an issuer). */
  brokerOverrides?: BrokerOverrides | ((started: { idp: TestIdp; otherIdp: TestIdp }) => BrokerOverrides);
  /** More IdP clients (both IdPs know them), for tests that need other claims; tokens from `idp.clientCredentialsToken(id)`. */
  extraClients?: IdpClient[];
  /** Sandbox options over the defaults (a streaming test's heartbeat and channel lifetime). */
  sandbox?: SandboxOptions;
  /** Wraps the sandbox's request listener (a tracing test: `withServerSpans`, so that Genesys' side shows in the trace). */
  wrapSandbox?: (listener: RequestListener) => RequestListener;
}

type BrokerOverrides = Partial<Record<keyof BrokerConfig, unknown>>;

export interface TestSystem {
  prefix: string;
  sandbox: RunningSandbox;
  idp: TestIdp;
  otherIdp: TestIdp;
  broker: RunningBroker;
  /** The raw (pre-parse) broker config, to start more replicas with. */
  rawConfig: Record<string, unknown>;
  redis: RedisClient;
  /** The broker's log lines (at `logLevel`; none when silent). */
  logLines: string[];
  tokenFor(client: keyof typeof CLIENTS): Promise<string>;
  get(path: string, client?: keyof typeof CLIENTS | null, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** A logger that keeps lines in memory (tests read them, and nothing floods the test output). */
export function memoryLogger(level: 'silent' | 'info' | 'debug' = 'info'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
  return { logger: createLogger({ name: 'test', level, destination: stream }), lines };
}

/** The broker configuration for a test system (as a config file would hold it, before parsing). */
export function brokerConfigFor(opts: { prefix: string; sandboxUrl: string; issuers: string[]; audience: string; clients: { name: string; clientId: string; clientSecret: string }[]; minTtlSeconds?: number }) {
  return {
    instanceId: `test-${randomUUID().slice(0, 8)}`,
    http: { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 2000 },
    logLevel: 'info',
    redis: { mode: 'standalone', url: REDIS_URL },
    keyPrefix: opts.prefix,
    idps: opts.issuers.map((issuer) => ({ issuer, audience: opts.audience, allowInsecure: true })),
    policy: {
      // Bound to the first IdP: with two trusted, the second one's `sales-apps` group is another group.
      rules: [
        { name: 'admins', match: { issuer: opts.issuers[0], rolesAny: ['gtb-admin'] }, profiles: ['*'], admin: true },
        { name: 'sales-apps', match: { issuer: opts.issuers[0], groupsAny: ['sales-apps'] }, profiles: opts.clients.map((c) => c.name) },
      ],
    },
    profiles: opts.clients.map((c) => ({
      name: c.name, loginBaseUrl: opts.sandboxUrl, apiBaseUrl: opts.sandboxUrl, clientId: c.clientId, clientSecret: c.clientSecret,
      refresh: { at: 0.8, jitter: 0.05, minTtlSeconds: opts.minTtlSeconds ?? 5 },
    })),
    encryption: { keys: [{ id: 'k1', key: randomBytes(32).toString('base64') }], primary: 'k1' },
    leases: { defaultTtlSeconds: 60, maxTtlSeconds: 600, graceSeconds: 0.2, sweepIntervalMs: 200 },
    rateLimit: { perMinute: 100_000 },
  };
}

/** Starts Redis-prefixed sandbox + two IdPs + one broker replica, all on loopback. */
export async function startSystem(options: SystemOptions = {}): Promise<TestSystem> {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const { logger, lines: logLines } = memoryLogger(options.logLevel ?? 'silent');
  const sandbox = await startSandbox({ port: 0, adminKey: 'test-admin-key', ...options.sandbox }, options.wrapSandbox);
  const idpClients = [...Object.values(CLIENTS), ...(options.extraClients ?? [])];
  const idp = await startIdp({ clients: idpClients });
  const otherIdp = await startIdp({ clients: idpClients });
  const profiles = options.profiles ?? ['sales'];
  const clients = profiles.map((name) => ({ name, ...sandbox.admin.createClient({ tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600, name }) }));
  const rawConfig: Record<string, unknown> = {
    ...brokerConfigFor({ prefix, sandboxUrl: sandbox.url, issuers: [idp.issuer, otherIdp.issuer], audience: idp.audience, clients, minTtlSeconds: options.minTtlSeconds }),
    ...(typeof options.brokerOverrides === 'function' ? options.brokerOverrides({ idp, otherIdp }) : options.brokerOverrides ?? {}),
  };
  const broker = await startBroker({ config: brokerConfigSchema.parse(rawConfig), logger });
  await waitUntilReady(broker.url);
  const redis = createRedis({ mode: 'standalone', url: REDIS_URL });
  await waitReady(redis);
  const tokens = new Map<string, string>();
  const tokenFor = async (client: keyof typeof CLIENTS) => {
    let t = tokens.get(client);
    if (!t) {
      t = await idp.clientCredentialsToken(CLIENTS[client].client_id);
      tokens.set(client, t);
    }
    return t;
  };
  return {
    prefix, sandbox, idp, otherIdp, broker, rawConfig, redis, logLines, tokenFor,
    async get(path, client = 'app', init = {}) {
      const headers = new Headers(init.headers);
      if (client) headers.set('authorization', `Bearer ${await tokenFor(client)}`);
      return fetch(`${broker.url}${path}`, { ...init, headers });
    },
    async close() {
      await broker.stop();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
      await Promise.allSettled([idp.close(), otherIdp.close(), sandbox.close()]);
    },
  };
}

/**
 * Another broker replica of a test system (same Redis, IdPs and sandbox), its configuration changed by
 * `overrides` (merged over the system's raw configuration); waits until it is ready unless it serves
 * HTTPS with a CA the default fetch does not trust. Stopped by the caller.
 */
export async function startReplica(sys: Pick<TestSystem, 'rawConfig'>, overrides: Record<string, unknown> = {}, logger = memoryLogger('silent').logger): Promise<RunningBroker> {
  const broker = await startBroker({ config: brokerConfigSchema.parse({ ...sys.rawConfig, instanceId: `test-${randomUUID().slice(0, 8)}`, ...overrides }), logger });
  if (broker.url.startsWith('http:')) await waitUntilReady(broker.url);
  return broker;
}

/** Polls `/readyz` until it answers 200 (Redis connected, subscribed, IdP keys loaded). */
export async function waitUntilReady(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) return;
      last = await res.text();
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`broker at ${url} not ready after ${timeoutMs} ms: ${last}`);
}
