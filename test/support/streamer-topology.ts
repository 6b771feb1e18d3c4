// A streaming system on a given Redis topology (Sentinel or Cluster) for the scale-out tests: the
// sandbox (short heartbeats, no rate limits), the test IdP, brokers and in-process streamers built
// with `createStreamer`, all on one Redis configuration. `close()` stops everything, last started first.
import { randomUUID } from 'node:crypto';
import { startSandbox, type RunningSandbox } from '@gtb/sandbox';
import { createRedis, redisConfigSchema, waitReady, type RedisClient, type RedisConfig } from '@gtb/redis';
import type { AnyCloudEvent } from '@gtb/events';
import { startIdp, type TestIdp } from '../fixtures/idp/index.js';
import { brokerConfigSchema } from '../../services/broker/src/config.js';
import { startBroker, type RunningBroker } from '../../services/broker/src/compose.js';
import { streamerConfigSchema } from '../../services/streamer/src/index.js';
import { brokerConfigFor, CLIENTS, memoryLogger, waitUntilReady } from './system.js';
import type { ClusterTopology, SentinelTopology } from './redis-topology.js';
import {
  buildStreamer, readLifecycle, readOutput, streamerConfigFor, streamerTiming, STREAMING_SANDBOX, type BuiltStreamer, type OutputEntry, type StreamSpec,
} from './streamer-harness.js';

export { decodeOutput, type OutputEntry, type StreamSpec } from './streamer-harness.js';

/** A started in-process streamer; `close()` stops it if the test does not. */
export type StackStreamer = Omit<BuiltStreamer, 'logger'>;

export interface StreamingStack {
  prefix: string;
  sandbox: RunningSandbox;
  idp: TestIdp;
  brokers: RunningBroker[];
  /** A command connection to the topology, for the test's own reads. */
  redis: RedisClient;
  /** Upstream token mints of a profile's sandbox client. */
  mints(profile: string): number;
  startStreamer(overrides?: Record<string, unknown>): Promise<StackStreamer>;
  /** Every entry of a stream's output (`<prefix>:events:{<stream>}`). */
  output(stream: string): Promise<OutputEntry[]>;
  /** Lifecycle events of the given types in the lifecycle stream. */
  lifecycle(types?: string[]): Promise<AnyCloudEvent[]>;
  close(): Promise<void>;
}

/** Timings of test streamers: the sandbox heartbeats every 500 ms. */
export const STACK_TIMING = streamerTiming({ heartbeatTimeoutMs: 1_500, pongTimeoutMs: 1_000, connectTimeoutMs: 10_000 });

/** Starts sandbox + IdP + `brokers` broker replicas on `redis`, with one sandbox client per profile. */
export async function startStreamingStack(options: { redis: RedisConfig | SentinelTopology['config'] | ClusterTopology['config']; profiles: string[]; streams: StreamSpec[]; brokers?: number }): Promise<StreamingStack> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async () => { for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined); };
  try {
    const redisConfig = redisConfigSchema.parse(options.redis);
    const prefix = `test:${randomUUID()}`;
    const { logger } = memoryLogger('silent');
    const sandbox = await startSandbox(STREAMING_SANDBOX);
    cleanups.push(() => sandbox.close());
    const idp = await startIdp({ clients: Object.values(CLIENTS) });
    cleanups.push(() => idp.close());
    const clients = options.profiles.map((name) => ({ name, ...sandbox.admin.createClient({ tokenLifetimeSeconds: 3600, name }) }));
    const raw = {
      ...brokerConfigFor({ prefix, sandboxUrl: sandbox.url, issuers: [idp.issuer], audience: idp.audience, clients, minTtlSeconds: 2 }),
      redis: redisConfig,
    };
    raw.leases = { ...raw.leases, graceSeconds: 2 };
    const brokers: RunningBroker[] = [];
    for (let i = 0; i < (options.brokers ?? 1); i++) {
      const broker = await startBroker({ config: brokerConfigSchema.parse({ ...raw, instanceId: `broker-${i}` }), logger });
      cleanups.push(() => broker.stop());
      brokers.push(broker);
    }
    await Promise.all(brokers.map((b) => waitUntilReady(b.url, 20_000)));
    const redis = createRedis(redisConfig);
    redis.on('error', () => undefined);
    cleanups.push(async () => redis.disconnect());
    await waitReady(redis, 20_000);

    const stack: StreamingStack = {
      prefix, sandbox, idp, brokers, redis,
      mints: (profile) => sandbox.admin.counters().tokensMinted[clients.find((c) => c.name === profile)?.clientId ?? ''] ?? 0,
      async startStreamer(overrides = {}) {
        const config = streamerConfigSchema.parse({
          ...streamerConfigFor({
            instanceId: `streamer-${randomUUID().slice(0, 8)}`, redis: redisConfig, keyPrefix: prefix, brokerUrl: brokers[0]!.url,
            issuer: idp.issuer, ownerLockTtlMs: 3_000, timing: STACK_TIMING, dedupeWindowMs: 300_000, streams: options.streams.map((s) => ({ ...s })),
          }),
          ...overrides,
        });
        const { streamer, gaps, lines, stop } = await buildStreamer(config, idp, 20_000);
        cleanups.push(stop);
        await streamer.start();
        return { streamer, gaps, lines, stop };
      },
      output: (stream) => readOutput(redis, prefix, stream),
      lifecycle: (types) => readLifecycle(redis, prefix, types),
      close,
    };
    return stack;
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The exact account of one topic's sequences 1..n in an output: each is delivered once, or missing
 * inside a reported gap (after the gap's `lastSequence`, before the next delivered one). Returns
 * what breaks that rule: doubles, and missing ones no gap covers.
 */
export function accountSequences(sequences: number[], n: number, gaps: { lastSequence?: number }[]): { duplicated: number[]; unreported: number[]; missing: number[] } {
  const count = new Map<number, number>();
  for (const s of sequences) count.set(s, (count.get(s) ?? 0) + 1);
  const duplicated = [...count].filter(([, c]) => c > 1).map(([s]) => s);
  const missing: number[] = [];
  for (let i = 1; i <= n; i++) if (!count.has(i)) missing.push(i);
  const delivered = [...count.keys()].sort((a, b) => a - b);
  const covered = (s: number) => gaps.some((g) => {
    const last = g.lastSequence ?? 0;
    if (s <= last) return false;
    const nextDelivered = delivered.find((d) => d > last) ?? Infinity;
    return s < nextDelivered;
  });
  return { duplicated, unreported: missing.filter((s) => !covered(s)), missing };
}
