import { backoffDelay } from '@gtb/errors';
import type { Keys, RedisClient } from '@gtb/redis';
import { sleep } from './backoff.js';
import { shardCount, type StreamerConfig } from './config.js';
import { createEventSink, type EventSink } from './event-sink.js';
import { parseFrame } from './frame.js';
import { startOwnerElection, type OwnerElection } from './owner-election.js';
import { planResync } from './resync/topic-families.js';
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
  /** The live worker (the first shard's), if this replica runs the stream now. */
  worker(): StreamWorker | undefined;
  /** Every shard's live worker (one per `limits.topicsPerChannel` topics). */
  workers(): StreamWorker[];
  /** The stream's status: receiving when every shard receives; `shards` has each one's. */
  status(): WorkerStatus & { owner: boolean; buffered: number; redisDegraded: boolean; shards: WorkerStatus[] };
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
  let workers: StreamWorker[] | undefined;
  let election: OwnerElection | undefined;
  let stopped = false;
  let starting: Promise<void> | undefined;

  // One shard per `limits.topicsPerChannel` topics, each its own channel, socket, gaps and coverage.
  const shards = shardCount(stream.topics.length, config.limits.topicsPerChannel);
  const shardTopics = Array.from({ length: shards }, (_, i) => stream.topics.slice(i * config.limits.topicsPerChannel, (i + 1) * config.limits.topicsPerChannel));
  const backfill = planResync(stream.topics).backfill;

  const sink: EventSink = createEventSink({
    redis, keys, stream: stream.name, instanceId: deps.instanceId,
    dedupeWindowMs: config.output.dedupeWindowMs, maxBuffered: config.output.maxBufferedEvents, batchSize: config.output.batchSize,
    writeTimeoutMs: config.output.writeTimeoutMs, now, logger: deps.logger,
    ...(config.output.maxStreamLength === undefined ? {} : { maxStreamLength: config.output.maxStreamLength }),
    onPushed(e) { if (e.kind === undefined) metrics.eventsIn.inc(labels); },
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
        ...(backfill.length > 0 ? { backfill } : {}),
      }, 'buffer_full');
      for (const w of workers ?? []) {
        w.resyncGap({ stream: stream.name, from: gap.from, to: gap.to, reason: `buffer full: ${gap.dropped} event(s) dropped` });
      }
    },
    onFencedOut() { void stepDown('fenced out by a newer owner'); },
  });

  async function runWorker(initialGap?: Parameters<typeof createStreamWorker>[0]['initialGap']): Promise<void> {
    const ws = shardTopics.map((topics, i) => createStreamWorker({
      stream: { ...stream, topics }, ...(shards > 1 ? { shard: i } : {}), resync: config.resync,
      timing: config.timing, gapsConfig: config.gaps, ha: config.ha, redis, keyPrefix: config.keyPrefix, broker: deps.broker, api: deps.api, push: sink.push, lifecycle: deps.lifecycle, gaps: deps.gaps,
      metrics, logger: deps.logger, now, random: deps.random, instanceId: deps.instanceId, ...(initialGap ? { initialGap } : {}),
    }));
    workers = ws;
    metrics.owner.set(labels, 1);
    // The first lease may fail (broker or IdP not up yet): retry each shard until it works or we stop.
    await Promise.all(ws.map(async (w) => {
      for (let attempt = 0; !stopped && workers === ws; attempt++) {
        try {
          await w.start();
          return;
        } catch (err) {
          log.warn({ err: (err as Error).message, attempt }, 'stream start failed; retrying');
          await sleep(backoffDelay(attempt, { baseMs: config.timing.backoffBaseMs, maxMs: config.timing.backoffMaxMs }, deps.random));
        }
      }
    }));
  }

  async function stepDown(reason: string): Promise<void> {
    const ws = workers;
    workers = undefined;
    metrics.owner.set(labels, 0);
    sink.setFence(undefined);
    if (ws) {
      log.warn({ reason }, 'stopping the stream worker');
      await Promise.all(ws.map((w) => w.stop()));
    }
  }

  /** What the previous owner last wrote: the lower bound of the takeover gap. */
  async function lastWritten(): Promise<{ at: number; eventAt?: number; instance?: string; sequence?: number; eventId?: string } | undefined> {
    // The last Genesys event, not the streamer's own gap and resync entries (they have a `kind`).
    const entries = await redis.xrevrange(keys.events(stream.name), '+', '-', 'COUNT', 200);
    let map: Map<string, string> | undefined;
    for (const [, fields] of entries) {
      const m = new Map<string, string>();
      for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i]!, fields[i + 1]!);
      if (!m.has('kind')) { map = m; break; }
    }
    if (!map) return undefined;
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
    worker: () => workers?.[0],
    workers: () => workers ?? [],
    status() {
      const all = (workers ?? []).map((w) => w.status());
      const first = all[0] ?? { stream: stream.name, receiving: false, channelFingerprint: undefined, rollovers: 0, failed: undefined };
      return {
        ...first,
        receiving: all.length > 0 && all.every((x) => x.receiving),
        rollovers: all.reduce((a, x) => a + x.rollovers, 0),
        failed: all.find((x) => x.failed)?.failed,
        owner: workers !== undefined, buffered: sink.pending(), redisDegraded: sink.degraded(), shards: all,
      };
    },
    async stop() {
      stopped = true;
      const ws = workers;
      workers = undefined;
      await Promise.all((ws ?? []).map((w) => w.stop()));
      await starting?.catch(() => undefined);
      await sink.close(config.output.writeTimeoutMs);
      // Released last: what this replica received is written before a standby starts its gap.
      await election?.stop();
      metrics.buffered.set(labels, 0);
    },
  };
}
