import { randomUUID } from 'node:crypto';
import { createEventPublisher, createEventSubscriber, eventSource, type EventPublisher, type EventSubscriber } from '@gtb/events';
import type { FetchLike } from '@gtb/errors';
import { createGenesysApi, type GenesysApi } from '@gtb/genesys';
import type { Logger } from '@gtb/logger';
import { createKeys, type RedisClient } from '@gtb/redis';
import { createStreamerBroker } from './broker.js';
import type { StreamerConfig } from './config.js';
import { createGapReporter, type Gap } from './gap-reporter.js';
import type { IdpTokenSource } from './idp-token.js';
import { createStreamerMetrics, type StreamerMetrics } from './metrics.js';
import { createStreamRunner, type StreamRunner } from './stream-runner.js';
import { startStateReporter } from './state-reporter.js';

export interface StreamerDeps {
  config: Readonly<StreamerConfig>;
  /** Commands and output writes. Fail-fast (see createRedis `failFast`): the streamer buffers itself. */
  redis: RedisClient;
  /** A dedicated connection for the `token.rotated` subscription (put in subscriber mode). */
  subscriber: RedisClient;
  logger: Logger;
  /** The streamer's own IdP access token (client credentials), refreshed by its provider. */
  idpToken: IdpTokenSource;
  instanceId?: string;
  now?: () => number;
  random?: () => number;
  fetch?: FetchLike;
  /** Every reported gap, for tests and embedding code (they are also logged and published). */
  onGap?: (gap: Gap, cause: string) => void;
}

/** A built streamer: one runner per configured stream. */
export interface Streamer {
  readonly instanceId: string;
  readonly metrics: StreamerMetrics;
  /** Lifecycle events (`stream.*`); the notifications go to the output streams. */
  readonly lifecycle: EventPublisher;
  start(): Promise<void>;
  runner(stream: string): StreamRunner | undefined;
  /** Liveness and readiness as `/healthz` and `/readyz` report them. */
  health(): { live: boolean; ready: boolean; streams: ReturnType<StreamRunner['status']>[] };
  stop(): Promise<void>;
}

/** Builds the streamer from its dependencies; reads no environment (main.ts does). */
export function createStreamer(deps: StreamerDeps): Streamer {
  const { config, redis, logger } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const instanceId = deps.instanceId ?? config.instanceId ?? `streamer-${randomUUID().slice(0, 8)}`;
  const keys = createKeys(config.keyPrefix);
  const metrics = createStreamerMetrics();
  const lifecycle = createEventPublisher({ redis, keys, source: eventSource('streamer', instanceId), logger, now });
  const gaps = createGapReporter({ lifecycle, logger, ...(deps.onGap ? { onReported: deps.onGap } : {}) });
  const broker = createStreamerBroker({ brokerUrl: config.brokerUrl, ca: config.brokerCa, idpToken: deps.idpToken, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
  const apis = new Map<string, GenesysApi>();
  const api = (apiBaseUrl: string) => {
    let a = apis.get(apiBaseUrl);
    if (!a) {
      a = createGenesysApi({ apiBaseUrl, now, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
      apis.set(apiBaseUrl, a);
    }
    return a;
  };
  const runners = new Map<string, StreamRunner>();
  for (const stream of config.streams) {
    runners.set(stream.name, createStreamRunner({
      config, stream, redis, keys, broker, api, lifecycle, gaps, metrics, logger: logger.child({ instance: instanceId }), now, random, instanceId,
    }));
  }
  let subscription: EventSubscriber | undefined;
  let started = false;
  let reporter: { stop(): Promise<void> } | undefined;

  return {
    instanceId,
    metrics,
    lifecycle,
    async start() {
      if (started) return;
      started = true;
      const profiles = [...new Set(config.streams.map((s) => s.profile))];
      // While leases are live the broker announces a rotation (token.rotated) and revokes the old token
      // only after a grace period: roll over on the announcement, not only at the next renewal.
      subscription = createEventSubscriber({
        redis: deps.subscriber, keys, types: ['token.rotated'], subjects: profiles, logger, now,
        onEvent: (event) => {
          if (event.type !== 'token.rotated') return;
          for (const stream of config.streams) {
            if (stream.profile === event.data.profile) for (const w of runners.get(stream.name)?.workers() ?? []) w.tokenRotated(event.data.fingerprint);
          }
        },
      });
      subscription.start().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'token.rotated subscription failed; relying on lease renewals'));
      for (const r of runners.values()) r.start();
      // The state the operator console shows (broker /v1/streams), with a heartbeat.
      reporter = startStateReporter({ instanceId, config, redis, keys, metrics, logger, now, status: () => [...runners.values()].map((r) => r.status()) });
    },
    runner: (name) => runners.get(name),
    health() {
      const streams = [...runners.values()].map((r) => r.status());
      for (const s of streams) metrics.buffered.set({ stream: s.stream }, s.buffered);
      // Ready: every stream this replica runs is receiving (a standby is ready by being a standby).
      const ready = started && streams.every((s) => !s.owner || (s.receiving && !s.failed));
      return { live: true, ready, streams };
    },
    async stop() {
      await reporter?.stop();
      await Promise.allSettled([...runners.values()].map((r) => r.stop()));
      await subscription?.close().catch(() => undefined);
      await gaps.close();
    },
  };
}
