import type { Keys, RedisClient } from '@gtb/redis';
import { backoffDelay, sleep } from './backoff.js';
import type { StreamerConfig } from './config.js';
import { createEventSink, type EventSink } from './event-sink.js';
import { parseFrame } from './frame.js';
import { startOwnerElection, type OwnerElection } from './owner-election.js';
import { createStreamWorker, type StreamWorker, type StreamWorkerDeps, type WorkerStatus } from './stream-worker.js';

/** What a stream needs: its worker's parts, plus the configuration and Redis for the HA mode and the output. */
export interface StreamRunnerDeps extends Pick<StreamWorkerDeps, 'stream' | 'broker' | 'api' | 'lifecycle' | 'gaps' | 'metrics' | 'logger' | 'now' | 'random' | 'instanceId'> {
  config: StreamerConfig;
  redis: RedisClient;
  keys: Keys;
}

/** One stream under the configured HA mode. */
export interface StreamRunner {
  start(): void;
  /** The live worker, if this replica runs the stream now. */
  worker(): StreamWorker | undefined;
  status(): WorkerStatus & { owner: boolean; buffered: number; redisDegraded: boolean };
  stop(): Promise<void>;
}

/**
 * active-active: a worker always runs. active-passive: a worker runs only while this replica holds
 * the owner lock; on taking over, the worker starts with a gap already open from the last entry in
 * the output stream (what the previous owner last wrote) to its own first frame.
 */
export function createStreamRunner(deps: StreamRunnerDeps): StreamRunner {
  const { config, stream, metrics, now, keys, redis } = deps;
  const log = deps.logger.child({ component: 'stream-runner', stream: stream.name });
  const labels = { stream: stream.name };
  let worker: StreamWorker | undefined;
  let election: OwnerElection | undefined;
  let stopped = false;
  let starting: Promise<void> | undefined;

  const sink: EventSink = createEventSink({
    redis, keys, stream: stream.name, instanceId: deps.instanceId,
    dedupeWindowMs: config.output.dedupeWindowMs, maxBuffered: config.output.maxBufferedEvents, batchSize: config.output.batchSize,
    writeTimeoutMs: config.output.writeTimeoutMs, now, logger: deps.logger,
    ...(config.output.maxStreamLength === undefined ? {} : { maxStreamLength: config.output.maxStreamLength }),
    onPushed() { metrics.eventsIn.inc(labels); },
    onWritten(written, duplicates, lags) {
      if (written) metrics.eventsOut.inc(labels, written);
      if (duplicates) metrics.eventsDeduplicated.inc(labels, duplicates);
      for (const lag of lags) metrics.lag.observe(labels, lag / 1000);
    },
    onOverflow(gap) {
      metrics.eventsDropped.inc(labels, gap.dropped);
      metrics.gaps.inc({ stream: stream.name, cause: 'buffer_full' });
      deps.gaps.report({
        stream: stream.name, from: gap.from, to: gap.to,
        ...(gap.lastSequence === undefined ? {} : { lastSequence: gap.lastSequence }),
        ...(gap.lastEventId === undefined ? {} : { lastEventId: gap.lastEventId }),
        reason: `buffer full while Redis was slow or down: ${gap.dropped} event(s) dropped`,
      }, 'buffer_full');
    },
    onFencedOut() { void stepDown('fenced out by a newer owner'); },
  });

  async function runWorker(initialGap?: Parameters<typeof createStreamWorker>[0]['initialGap']): Promise<void> {
    const w = createStreamWorker({
      stream, timing: config.timing, gapsConfig: config.gaps, ha: config.ha, redis, keyPrefix: config.keyPrefix, broker: deps.broker, api: deps.api, push: sink.push, lifecycle: deps.lifecycle, gaps: deps.gaps,
      metrics, logger: deps.logger, now, random: deps.random, instanceId: deps.instanceId, ...(initialGap ? { initialGap } : {}),
    });
    worker = w;
    metrics.owner.set(labels, 1);
    // The first lease may fail (broker or IdP not up yet): retry until it works or we stop.
    for (let attempt = 0; !stopped && worker === w; attempt++) {
      try {
        await w.start();
        return;
      } catch (err) {
        log.warn({ err: (err as Error).message, attempt }, 'stream start failed; retrying');
        await sleep(backoffDelay(attempt, config.timing.backoffBaseMs, config.timing.backoffMaxMs, deps.random));
      }
    }
  }

  async function stepDown(reason: string): Promise<void> {
    const w = worker;
    worker = undefined;
    metrics.owner.set(labels, 0);
    sink.setFence(undefined);
    if (w) {
      log.warn({ reason }, 'stopping the stream worker');
      await w.stop();
    }
  }

  /** What the previous owner last wrote: the lower bound of the takeover gap. */
  async function lastWritten(): Promise<{ at: number; eventAt?: number; instance?: string; sequence?: number; eventId?: string } | undefined> {
    const entries = await redis.xrevrange(keys.events(stream.name), '+', '-', 'COUNT', 1);
    const fields = entries[0]?.[1];
    if (!fields) return undefined;
    const map = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
    const at = Date.parse(map.get('received_at') ?? '');
    if (Number.isNaN(at)) return undefined;
    const seq = Number(map.get('sequence'));
    const cid = map.get('id')?.split(':').pop();
    const frame = parseFrame(map.get('event') ?? '', config.gaps.eventTimeFields);
    const eventAt = frame.kind === 'event' ? frame.eventAt : undefined;
    return {
      at,
      ...(eventAt === undefined ? {} : { eventAt }),
      ...(map.get('instance') ? { instance: map.get('instance')! } : {}),
      ...(Number.isSafeInteger(seq) && map.has('sequence') ? { sequence: seq } : {}),
      ...(cid && /^[A-Za-z0-9_.-]{1,128}$/.test(cid) && !cid.startsWith('sha256-') ? { eventId: cid } : {}),
    };
  }

  async function takeOver(fence: number): Promise<void> {
    sink.setFence(fence);
    const last = await lastWritten().catch(() => undefined);
    const fromInstance = last?.instance && last.instance !== deps.instanceId && /^[A-Za-z0-9_.:-]{1,128}$/.test(last.instance) ? last.instance : undefined;
    if (fence > 1) {
      void deps.lifecycle.tryPublish('stream.failover', stream.name, { stream: stream.name, toInstance: deps.instanceId, fence, ...(fromInstance ? { fromInstance } : {}) });
    }
    starting = runWorker(last ? {
      cause: 'takeover',
      lastFrameAt: last.at,
      lastEventAt: last.eventAt,
      ...(last.sequence === undefined ? {} : { lastSequence: last.sequence }),
      ...(last.eventId === undefined ? {} : { lastEventId: last.eventId }),
      reason: `takeover by ${deps.instanceId} (fence ${fence}); events after the last written one were not received`,
    } : undefined);
  }

  return {
    start() {
      if (config.ha === 'active-active') {
        starting = runWorker();
        return;
      }
      metrics.owner.set(labels, 0);
      election = startOwnerElection({
        redis, keys, stream: stream.name, instanceId: deps.instanceId, ttlMs: config.ownerLockTtlMs, now, logger: deps.logger,
        onAcquired: takeOver,
        onLost: (reason) => stepDown(reason),
      });
    },
    worker: () => worker,
    status() {
      const s = worker?.status() ?? { stream: stream.name, receiving: false, channelFingerprint: undefined, rollovers: 0, failed: undefined };
      return { ...s, owner: worker !== undefined, buffered: sink.pending(), redisDegraded: sink.degraded() };
    },
    async stop() {
      stopped = true;
      const w = worker;
      worker = undefined;
      await w?.stop();
      await starting?.catch(() => undefined);
      await sink.close(config.output.writeTimeoutMs);
      // Released last: what this replica received is written before a standby starts its gap.
      await election?.stop();
      metrics.buffered.set(labels, 0);
    },
  };
}
