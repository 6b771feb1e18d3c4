/**
 * A whole streaming system on loopback for the streamer's tests: the sandbox (with the short
 * heartbeat and notice intervals these tests need, which the shared `startSystem()` does not let a
 * test set), two IdPs, one in-process broker on a unique Redis prefix, and streamers built from
 * `createStreamer` with the test's own timings.
 */
import { randomUUID } from 'node:crypto';
import { startSandbox, type RunningSandbox, type SandboxOptions } from '@gtb/sandbox';
import { createRedis, waitReady, type RedisClient } from '@gtb/redis';
import type { AnyCloudEvent } from '@gtb/events';
import { fingerprint } from '@gtb/logger';
import { startIdp, type TestIdp } from '../../../../test/fixtures/idp/index.js';
import { brokerConfigFor, CLIENTS, memoryLogger, REDIS_URL, waitUntilReady } from '../../../../test/support/system.js';
import {
  buildStreamer, readLifecycle, readOutput, streamerConfigFor, streamerTiming, STREAMING_SANDBOX, type BuiltStreamer, type OutputEntry,
} from '../../../../test/support/streamer-harness.js';
import { brokerConfigSchema } from '../../../broker/src/config.js';
import { startBroker, type RunningBroker } from '../../../broker/src/compose.js';
import { streamerConfigSchema } from '../../src/index.js';

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

/** A started in-process streamer; `stop()` also drops it from what `close()` stops. */
export type TestStreamer = BuiltStreamer;

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
  output(stream?: string, redis?: RedisClient): Promise<OutputEntry[]>;
  /** Lifecycle events of the given types written so far. */
  lifecycle(types?: string[]): Promise<AnyCloudEvent[]>;
  /**
   * The real id of a connected channel, from the fingerprint the streamer shows (`/readyz`,
   * events): the streamer never lets the id out, the sandbox's admin API knows it.
   */
  channelIdOf(channelFingerprint: string | undefined): string | undefined;
  close(): Promise<void>;
}

/** Default timings of test streamers: the sandbox heartbeats every 500 ms. */
export const TEST_TIMING = streamerTiming({ heartbeatTimeoutMs: 650, pongTimeoutMs: 250, connectTimeoutMs: 5_000 });

/** Starts sandbox + IdP + broker on a unique prefix. */
export async function startStreamSystem(options: StreamSystemOptions = {}): Promise<StreamSystem> {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const { logger } = memoryLogger('silent');
  const sandbox = await startSandbox({ ...STREAMING_SANDBOX, minTokenLifetimeSeconds: 1, ...options.sandbox });
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
        ...streamerConfigFor({
          instanceId: `s-${randomUUID().slice(0, 8)}`, redis: { mode: 'standalone', url: REDIS_URL }, keyPrefix: prefix, brokerUrl: broker.url,
          issuer: idp.issuer, ownerLockTtlMs: 1_500, timing: TEST_TIMING, dedupeWindowMs: 120_000, streams: [{ name: STREAM, profile: 'sales', topics: [TOPIC] }],
        }),
        ...overrides,
      };
    },
    async startStreamer(overrides = {}, redisUrl = REDIS_URL) {
      const config = streamerConfigSchema.parse(system.streamerConfig({ redis: { mode: 'standalone', url: redisUrl }, ...overrides }));
      const built = await buildStreamer(config, idp);
      await built.streamer.start();
      const t: TestStreamer = {
        ...built,
        async stop() {
          streamers.delete(t);
          await built.stop();
        },
      };
      streamers.add(t);
      return t;
    },
    rotate: () => admin('POST', '/v1/profiles/sales/rotate'),
    revokeViaBroker: () => admin('DELETE', '/v1/profiles/sales/token'),
    output: (stream = STREAM, client = redis) => readOutput(client, prefix, stream),
    lifecycle: (types) => readLifecycle(redis, prefix, types),
    channelIdOf: (fp) => (fp === undefined ? undefined : sandbox.admin.connectedChannels().find((id) => fingerprint(id) === fp)),
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
