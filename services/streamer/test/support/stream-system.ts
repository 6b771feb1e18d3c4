/**
 * A whole streaming system on loopback for the streamer's tests: the sandbox (with the short
 * heartbeat and notice intervals these tests need, which the shared `startSystem()` does not let a
 * test set), two IdPs, one in-process broker on a unique Redis prefix, and streamers built from
 * `createStreamer` with the test's own timings.
 */
import { randomUUID } from 'node:crypto';
import { startSandbox, type RunningSandbox, type SandboxOptions } from '@gtb/sandbox';
import { createRedis, waitReady, type RedisClient } from '@gtb/redis';
import type { Logger } from '@gtb/logger';
import type { AnyCloudEvent } from '@gtb/events';
import { startIdp, type TestIdp } from '../../../../test/fixtures/idp/index.js';
import { brokerConfigFor, CLIENTS, memoryLogger, REDIS_URL, waitUntilReady } from '../../../../test/support/system.js';
import { brokerConfigSchema } from '../../../broker/src/config.js';
import { startBroker, type RunningBroker } from '../../../broker/src/compose.js';
import { createStreamer, streamerConfigSchema, type Gap, type Streamer } from '../../src/index.js';

export const TOPIC = 'v2.routing.queues.q1.conversations';
export const STREAM = 'queues';
export { REDIS_URL };

export interface StreamSystemOptions {
  sandbox?: SandboxOptions;
  tokenLifetimeSeconds?: number;
  allowedTopics?: string[];
  /** Seconds the broker waits between announcing a rotation and revoking the old token. */
  leaseGraceSeconds?: number;
  minTtlSeconds?: number;
}

export interface TestStreamer {
  streamer: Streamer;
  gaps: { gap: Gap; cause: string }[];
  logger: Logger;
  lines: string[];
  stop(): Promise<void>;
}

export interface StreamSystem {
  prefix: string;
  sandbox: RunningSandbox;
  idp: TestIdp;
  broker: RunningBroker;
  redis: RedisClient;
  clientId: string;
  /** A streamer configuration (before parsing) for this system; `overrides` are merged at the top level. */
  streamerConfig(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** Builds and starts an in-process streamer; stopped by `close()` if the test does not. */
  startStreamer(overrides?: Record<string, unknown>, redisUrl?: string): Promise<TestStreamer>;
  /** `POST /v1/profiles/sales/rotate` as the admin. */
  rotate(): Promise<void>;
  /** `DELETE /v1/profiles/sales/token` as the admin (with live leases: rotate, grace, revoke the old). */
  revokeViaBroker(): Promise<void>;
  /** Every entry of the output stream (prefix-aware). */
  output(stream?: string, redis?: RedisClient): Promise<{ id: string; sequence: number; instance: string; receivedAt: number }[]>;
  /** Lifecycle events of the given types written so far. */
  lifecycle(types?: string[]): Promise<AnyCloudEvent[]>;
  close(): Promise<void>;
}

/** Default timings of test streamers: the sandbox heartbeats every 500 ms. */
export const TEST_TIMING = {
  heartbeatTimeoutMs: 650,
  pongTimeoutMs: 250,
  channelExpiryMarginMs: 1_500,
  tokenExpiryMarginMs: 2_000,
  overlapMs: 150,
  connectTimeoutMs: 5_000,
  backoffBaseMs: 50,
  backoffMaxMs: 1_000,
  leaseTtlSeconds: 10,
};

/** Starts sandbox + IdP + broker on a unique prefix. */
export async function startStreamSystem(options: StreamSystemOptions = {}): Promise<StreamSystem> {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const { logger } = memoryLogger('silent');
  const sandbox = await startSandbox({
    port: 0, adminKey: 'test-admin-key', heartbeatIntervalMs: 500, socketClosingNoticeMs: 1_000, sweepIntervalMs: 100,
    minTokenLifetimeSeconds: 1, apiRateLimitPerMinute: 1_000_000, tokenRateLimitPerMinute: 1_000_000, ...options.sandbox,
  });
  const idp = await startIdp({ clients: Object.values(CLIENTS) });
  const client = sandbox.admin.createClient({
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600, name: 'sales', ...(options.allowedTopics ? { allowedTopics: options.allowedTopics } : {}),
  });
  const raw = brokerConfigFor({
    prefix, sandboxUrl: sandbox.url, issuers: [idp.issuer], audience: idp.audience,
    clients: [{ name: 'sales', ...client }], minTtlSeconds: options.minTtlSeconds ?? 2,
  });
  raw.leases = { ...raw.leases, graceSeconds: options.leaseGraceSeconds ?? 2 };
  const broker = await startBroker({ config: brokerConfigSchema.parse(raw), logger });
  await waitUntilReady(broker.url);
  const redis = createRedis({ mode: 'standalone', url: REDIS_URL });
  await waitReady(redis);
  const streamers = new Set<TestStreamer>();
  const extraRedis = new Set<RedisClient>();
  let adminToken: string | undefined;
  const admin = async (method: string, path: string) => {
    adminToken ??= await idp.clientCredentialsToken(CLIENTS.admin.client_id);
    const res = await fetch(`${broker.url}${path}`, { method, headers: { authorization: `Bearer ${adminToken}` } });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  };

  const system: StreamSystem = {
    prefix, sandbox, idp, broker, redis, clientId: client.clientId,
    streamerConfig(overrides = {}) {
      return {
        instanceId: `s-${randomUUID().slice(0, 8)}`,
        logLevel: 'info',
        redis: { mode: 'standalone', url: REDIS_URL },
        keyPrefix: prefix,
        brokerUrl: broker.url,
        identity: { issuer: idp.issuer, clientId: CLIENTS.streamer.client_id, clientSecret: CLIENTS.streamer.client_secret, allowInsecure: true },
        ha: 'active-active',
        ownerLockTtlMs: 1_500,
        http: { host: '127.0.0.1', port: 0 },
        timing: TEST_TIMING,
        output: { dedupeWindowMs: 120_000, maxBufferedEvents: 100_000, batchSize: 500, writeTimeoutMs: 2_000 },
        streams: [{ name: STREAM, profile: 'sales', topics: [TOPIC] }],
        ...overrides,
      };
    },
    async startStreamer(overrides = {}, redisUrl = REDIS_URL) {
      const config = streamerConfigSchema.parse(system.streamerConfig({ redis: { mode: 'standalone', url: redisUrl }, ...overrides }));
      const mem = memoryLogger((process.env.STREAMER_TEST_LOG as 'debug' | undefined) ?? 'info');
      const r = createRedis(config.redis, { failFast: true });
      const sub = createRedis(config.redis);
      for (const c of [r, sub]) c.on('error', () => undefined);
      await waitReady(r);
      let idpToken: string | undefined;
      const gaps: { gap: Gap; cause: string }[] = [];
      const streamer = createStreamer({
        config, redis: r, subscriber: sub, logger: mem.logger,
        idpToken: async (force) => {
          if (force || !idpToken) idpToken = await idp.clientCredentialsToken(CLIENTS.streamer.client_id);
          return idpToken;
        },
        onGap: (gap, cause) => gaps.push({ gap, cause }),
      });
      await streamer.start();
      let stopped = false;
      const t: TestStreamer = {
        streamer, gaps, logger: mem.logger, lines: mem.lines,
        async stop() {
          if (stopped) return;
          stopped = true;
          streamers.delete(t);
          await streamer.stop();
          r.disconnect();
          sub.disconnect();
        },
      };
      streamers.add(t);
      return t;
    },
    rotate: () => admin('POST', '/v1/profiles/sales/rotate'),
    revokeViaBroker: () => admin('DELETE', '/v1/profiles/sales/token'),
    async output(stream = STREAM, client = redis) {
      const entries = await client.xrange(`${prefix}:events:{${stream}}`, '-', '+');
      return entries.map(([, fields]) => {
        const m = new Map<string, string>();
        for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i]!, fields[i + 1]!);
        return { id: m.get('id')!, sequence: Number(m.get('sequence')), instance: m.get('instance')!, receivedAt: Date.parse(m.get('received_at')!) };
      });
    },
    async lifecycle(types) {
      const entries = await redis.xrange(`${prefix}:lifecycle`, '-', '+');
      const events = entries.map(([, f]) => JSON.parse(f[1]!) as AnyCloudEvent);
      return types ? events.filter((e) => types.includes(e.type)) : events;
    },
    async close() {
      for (const s of [...streamers]) await s.stop().catch(() => undefined);
      for (const c of extraRedis) c.disconnect();
      await broker.stop();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
      await Promise.allSettled([idp.close(), sandbox.close()]);
    },
  };
  return system;
}

/** Sequence numbers missing from 1..n, and those present more than once. */
export function checkSequences(sequences: number[], n: number): { missing: number[]; duplicated: number[] } {
  const seen = new Map<number, number>();
  for (const s of sequences) seen.set(s, (seen.get(s) ?? 0) + 1);
  const missing: number[] = [];
  for (let i = 1; i <= n; i++) if (!seen.has(i)) missing.push(i);
  const duplicated = [...seen].filter(([, c]) => c > 1).map(([s]) => s);
  return { missing, duplicated };
}
