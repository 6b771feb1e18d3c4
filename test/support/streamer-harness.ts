// What the two streaming harnesses have in common: the streamer's own tests
// (`services/streamer/test/support/stream-system.ts`, standalone Redis) and the scale-out system
// tests (`streamer-topology.ts`, Sentinel or Cluster). Each keeps its own values (timeouts, lock
// TTLs, dedupe windows); this holds the code: the sandbox settings, the streamer configuration's
// shape, building an in-process streamer, and reading the output and lifecycle streams.
import type { SandboxOptions } from '@gtb/sandbox';
import { createRedis, waitReady, type RedisClient } from '@gtb/redis';
import type { Logger } from '@gtb/logger';
import type { AnyCloudEvent } from '@gtb/events';
import type { TestIdp } from '../fixtures/idp/index.js';
import { createStreamer, type Gap, type Streamer, type StreamerConfig } from '../../services/streamer/src/index.js';
import { CLIENTS, memoryLogger } from './system.js';

/** One configured notification stream. */
export interface StreamSpec { name: string; profile: string; topics: string[] }

/** One output entry, decoded. */
export interface OutputEntry { streamId: string; id: string; topic: string; sequence: number; instance: string; receivedAt: number }

/** The sandbox of a streaming test: heartbeats every 500 ms, short closing notices, fast sweeps, no rate limits. */
export const STREAMING_SANDBOX: SandboxOptions = {
  port: 0, adminKey: 'test-admin-key', heartbeatIntervalMs: 500, socketClosingNoticeMs: 1_000, sweepIntervalMs: 100,
  apiRateLimitPerMinute: 1_000_000, tokenRateLimitPerMinute: 1_000_000,
};

/** Timings of test streamers: the harness's own timeouts, the margins, overlap, backoff and lease TTL all share. */
export function streamerTiming(timeouts: { heartbeatTimeoutMs: number; pongTimeoutMs: number; connectTimeoutMs: number }) {
  return {
    ...timeouts,
    channelExpiryMarginMs: 1_500,
    tokenExpiryMarginMs: 2_000,
    overlapMs: 150,
    backoffBaseMs: 50,
    backoffMaxMs: 1_000,
    leaseTtlSeconds: 10,
  };
}

/** A streamer configuration (before parsing) with the test IdP's streamer client, active-active, on an ephemeral port. */
export function streamerConfigFor(opts: {
  instanceId: string;
  redis: unknown;
  keyPrefix: string;
  brokerUrl: string;
  issuer: string;
  ownerLockTtlMs: number;
  timing: ReturnType<typeof streamerTiming>;
  dedupeWindowMs: number;
  streams: StreamSpec[];
}): Record<string, unknown> {
  const { issuer, dedupeWindowMs, ...own } = opts;
  return {
    logLevel: 'info',
    identity: { issuer, clientId: CLIENTS.streamer.client_id, clientSecret: CLIENTS.streamer.client_secret, allowInsecure: true },
    ha: 'active-active',
    http: { host: '127.0.0.1', port: 0 },
    output: { dedupeWindowMs, maxBufferedEvents: 100_000, batchSize: 500, writeTimeoutMs: 2_000 },
    ...own,
  };
}

/** An in-process streamer, built but not started. */
export interface BuiltStreamer {
  streamer: Streamer;
  /** Every gap the streamer reported (also logged and published as `stream.gap`). */
  gaps: { gap: Gap; cause: string }[];
  logger: Logger;
  lines: string[];
  /** Stops the streamer and closes its Redis connections; later calls do nothing. */
  stop(): Promise<void>;
}

/**
 * Builds a streamer from `createStreamer` with its own two Redis connections (waiting up to
 * `readyTimeoutMs` for the first), an in-memory logger (level from `STREAMER_TEST_LOG`, else info),
 * the IdP's `streamer` client tokens and a record of its gaps. The caller starts it.
 */
export async function buildStreamer(config: StreamerConfig, idp: Pick<TestIdp, 'clientCredentialsToken'>, readyTimeoutMs?: number): Promise<BuiltStreamer> {
  const mem = memoryLogger((process.env.STREAMER_TEST_LOG as 'debug' | undefined) ?? 'info');
  const r = createRedis(config.redis, { failFast: true });
  const sub = createRedis(config.redis);
  for (const c of [r, sub]) c.on('error', () => undefined);
  await waitReady(r, readyTimeoutMs);
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
  let stopped = false;
  return {
    streamer, gaps, logger: mem.logger, lines: mem.lines,
    async stop() {
      if (stopped) return;
      stopped = true;
      await streamer.stop();
      r.disconnect();
      sub.disconnect();
    },
  };
}

/**
 * Decodes XRANGE field lists into entries: the Genesys events only. The streamer's own `stream.gap`
 * and `stream.resync` entries (a `kind` field) are left out; read them raw where a test wants them.
 */
export function decodeOutput(entries: [string, string[]][]): OutputEntry[] {
  return entries.filter(([, fields]) => !fields.includes('kind')).map(([streamId, fields]) => {
    const m = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i]!, fields[i + 1]!);
    return {
      streamId, id: m.get('id') ?? '', topic: m.get('topic') ?? '', sequence: Number(m.get('sequence')),
      instance: m.get('instance') ?? '', receivedAt: Date.parse(m.get('received_at') ?? ''),
    };
  });
}

/** Every entry of a stream's output (`<prefix>:events:{<stream>}`), decoded. */
export async function readOutput(redis: RedisClient, prefix: string, stream: string): Promise<OutputEntry[]> {
  return decodeOutput(await redis.xrange(`${prefix}:events:{${stream}}`, '-', '+'));
}

/** Lifecycle events (`<prefix>:lifecycle`) of the given types, or all of them. */
export async function readLifecycle(redis: RedisClient, prefix: string, types?: string[]): Promise<AnyCloudEvent[]> {
  const entries = await redis.xrange(`${prefix}:lifecycle`, '-', '+');
  const events = entries.map(([, f]) => JSON.parse(f[1]!) as AnyCloudEvent);
  return types ? events.filter((e) => types.includes(e.type)) : events;
}
