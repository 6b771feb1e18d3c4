/**
 * A running system for tests: the sandbox as Genesys, the test IdP (oidc-provider), real Redis
 * under a unique key prefix, and one broker replica. Everything is closed in `t.after`.
 * The CLI tests reuse it (services/cli/test imports this file).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import { createLogger } from '@gtb/logger';
import { createRedis, waitReady, type RedisClient } from '@gtb/redis';
import { startSandbox, type RunningSandbox } from '@gtb/sandbox';
import { startBroker, type RunningBroker } from '../../../services/broker/src/compose.js';
import { brokerConfigSchema, type BrokerConfig } from '../../../services/broker/src/config.js';
import { startIdp, type TestIdp } from '../../../test/fixtures/idp/index.js';
import { waitUntilReady } from '../../../test/support/system.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** IdP clients: `app` may use `sales`; `ops` is an admin; `stranger` matches no rule. */
export const CLIENTS = {
  app: { client_id: 'app', client_secret: 'app-secret-0123456789' },
  ops: { client_id: 'ops', client_secret: 'ops-secret-0123456789' },
  stranger: { client_id: 'stranger', client_secret: 'stranger-secret-0123456789' },
} as const;

export interface SystemOptions {
  /** Genesys token lifetime in seconds (sandbox minimum 300). */
  tokenLifetimeSeconds?: number;
  /** Overrides merged into the broker config before parsing. */
  broker?: Partial<Record<keyof BrokerConfig, unknown>>;
}

export interface RunningSystem {
  sandbox: RunningSandbox;
  idp: TestIdp;
  broker: RunningBroker;
  /** The broker config as given to `brokerConfigSchema.parse` (JSON-serialisable, for doctor). */
  brokerConfigInput: Record<string, unknown>;
  keyPrefix: string;
  redis: RedisClient;
  /** Genesys client ids per profile, for the sandbox's counters. */
  clientIds: Record<string, string>;
  /** An IdP access token for one of `CLIENTS`. */
  tokenFor(client: keyof typeof CLIENTS): Promise<string>;
  /** Tokens minted by the sandbox for a profile. */
  mints(profile: string): number;
}

/** Starts sandbox, IdP and broker; closes them after the test. */
export async function startSystem(t: TestContext, options: SystemOptions = {}): Promise<RunningSystem> {
  const sandbox = await startSandbox({ port: 0, logger: createLogger({ name: 'sandbox', level: 'silent' }) });
  t.after(() => sandbox.close());
  const idp = await startIdp({ clients: Object.values(CLIENTS).map((c) => ({ ...c })), accessTokenTtl: 600 });
  t.after(() => idp.close());
  const keyPrefix = `test:${randomUUID()}`;
  const clientIds: Record<string, string> = {};
  const profiles = ['sales', 'support'].map((name) => {
    const { clientId, clientSecret } = sandbox.admin.createClient({ tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600 });
    clientIds[name] = clientId;
    return { name, loginBaseUrl: sandbox.url, apiBaseUrl: sandbox.url, clientId, clientSecret };
  });
  const brokerConfigInput: Record<string, unknown> = {
    instanceId: 'client-test',
    http: { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 2000 },
    logLevel: 'silent',
    redis: { mode: 'standalone', url: REDIS_URL },
    keyPrefix,
    idps: [{ issuer: idp.issuer, audience: idp.audience, allowInsecure: true }],
    policy: {
      rules: [
        { name: 'app-sales', match: { issuer: idp.issuer, clientId: 'app' }, profiles: ['sales'] },
        { name: 'ops-admin', match: { issuer: idp.issuer, clientId: 'ops' }, profiles: ['*'], admin: true },
      ],
    },
    profiles,
    encryption: { keys: [{ id: 'k1', key: randomBytes(32).toString('base64') }], primary: 'k1' },
    leases: { defaultTtlSeconds: 60, maxTtlSeconds: 600, graceSeconds: 0, sweepIntervalMs: 200 },
    ...options.broker,
  };
  const config = brokerConfigSchema.parse(brokerConfigInput);
  const broker = await startBroker({ config, logger: createLogger({ name: 'broker', level: 'silent' }) });
  await waitUntilReady(broker.url);
  const redis = createRedis({ mode: 'standalone', url: REDIS_URL }, { connectionName: 'client-test-admin' });
  await waitReady(redis);
  t.after(async () => {
    await broker.stop();
    const stale = await redis.keys(`${keyPrefix}:*`);
    if (stale.length > 0) await redis.del(...stale);
    await redis.quit();
  });
  return {
    sandbox, idp, broker, brokerConfigInput, keyPrefix, redis, clientIds,
    tokenFor: (client) => idp.clientCredentialsToken(CLIENTS[client].client_id),
    mints: (profile) => sandbox.admin.counters().tokensMinted[clientIds[profile] ?? ''] ?? 0,
  };
}
