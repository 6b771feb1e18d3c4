import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import { createLogger } from '@gtb/logger';
import { createKeys, createRedis, duplicateRedis, waitReady, type Keys, type RedisClient } from '@gtb/redis';
import { startSandbox, type RunningSandbox } from '@gtb/sandbox';
import type { EventData, EventType } from '@gtb/events';
import { createKeyRing, createProfileRegistry, createTokenService, profileConfigSchema, type KeyRing, type ProfileConfig, type TokenService, type TokenServiceOptions } from '../src/tokens/index.js';

/** A lifecycle event a replica published, as the typed publisher received it. */
export type PublishedEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A clock tests move by hand; starts at the real time so Redis TTLs derived from it stay sane. */
export function testClock(start = Date.now()) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms), set: (ms: number) => void (t = ms) };
}

export interface Replica {
  service: TokenService;
  redis: RedisClient;
  subscriber: RedisClient;
  /** Every lifecycle event this replica published (the publisher's `tryPublish`, recorded). */
  events: PublishedEvent[];
}

export interface Harness {
  sandbox: RunningSandbox;
  keys: Keys;
  prefix: string;
  keyRing: KeyRing;
  profiles: ProfileConfig[];
  clientIds: Record<string, string>;
  /** Admin connection for inspecting Redis. */
  redis: RedisClient;
  replicas: Replica[];
  /** Every log line every replica wrote. */
  logs: string[];
  mints(profile?: string): number;
  addReplica(extra?: Partial<TokenServiceOptions>): Promise<Replica>;
}

export interface HarnessOptions {
  replicas?: number;
  profiles?: string[];
  tokenLifetimeSeconds?: number;
  refresh?: { at?: number; jitter?: number; minTtlSeconds?: number };
  service?: Partial<TokenServiceOptions>;
}

/**
 * The sandbox as Genesys, real Redis under a unique prefix, and N token services on it (= N
 * replicas), each with its own command and subscriber connections. All closed in `t.after`.
 */
export async function tokenHarness(t: TestContext, options: HarnessOptions = {}): Promise<Harness> {
  const sandbox = await startSandbox({ port: 0, logger: createLogger({ name: 'sandbox', level: 'silent' }) });
  const prefix = `test:${randomUUID()}`;
  const keys = createKeys(prefix);
  const keyRing = createKeyRing({ keys: [{ id: 'k1', key: randomBytes(32).toString('base64') }], primary: 'k1' });
  const clientIds: Record<string, string> = {};
  const profiles = (options.profiles ?? ['sales']).map((name) => {
    const { clientId, clientSecret } = sandbox.admin.createClient({ tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600 });
    clientIds[name] = clientId;
    return profileConfigSchema.parse({ name, loginBaseUrl: sandbox.url, apiBaseUrl: sandbox.url, clientId, clientSecret, refresh: { at: 0.8, jitter: 0.05, minTtlSeconds: 300, ...options.refresh } });
  });
  const admin = createRedis({ mode: 'standalone', url }, { connectionName: 'tokens-test-admin' });
  await waitReady(admin);
  const logs: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } });
  const replicas: Replica[] = [];

  const harness: Harness = {
    sandbox, keys, prefix, keyRing, profiles, clientIds, redis: admin, replicas, logs,
    mints: (profile = profiles[0]!.name) => sandbox.admin.counters().tokensMinted[clientIds[profile]!] ?? 0,
    async addReplica(extra = {}) {
      const redis = createRedis({ mode: 'standalone', url }, { connectionName: 'tokens-test', failFast: true });
      redis.on('error', () => {});
      await waitReady(redis);
      const subscriber = duplicateRedis(redis);
      subscriber.on('error', () => {});
      await waitReady(subscriber);
      const events: Replica['events'] = [];
      const service = createTokenService({
        redis, subscriber, keys, keyRing, profiles: createProfileRegistry(profiles),
        instanceId: `replica-${replicas.length}`,
        logger: createLogger({ name: 'broker', level: 'debug', destination: sink }),
        events: { tryPublish: (type, _subject, data) => { events.push({ type, data } as PublishedEvent); return Promise.resolve(undefined); } },
        retry: { tries: 3, baseMs: 5, maxMs: 20 },
        ...options.service,
        ...extra,
      });
      await service.start();
      const replica = { service, redis, subscriber, events };
      replicas.push(replica);
      return replica;
    },
  };
  t.after(async () => {
    for (const r of replicas) {
      await r.service.close();
      r.subscriber.disconnect();
      r.redis.disconnect();
    }
    const stale = await admin.keys(`${prefix}:*`);
    if (stale.length > 0) await admin.del(...stale);
    await admin.quit();
    await sandbox.close();
  });
  for (let i = 0; i < (options.replicas ?? 1); i++) await harness.addReplica();
  return harness;
}
