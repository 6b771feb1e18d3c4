import { randomBytes } from 'node:crypto';
import type { Logger } from '@gtb/logger';
import type { RedisClient } from '@gtb/redis';
import { sleep } from './backoff.js';
import type { GapsConfig } from './config.js';
import type { Gap, GapReporter } from './gap-reporter.js';
import type { StreamerMetrics } from './metrics.js';
import { createReplicaCoverage, gapKeys, type ReplicaCoverage } from './replica-coverage.js';

/** Where a gap starts, as the socket saw it: its last frame, and what it had received until then. */
export interface GapStart {
  /** The last frame heard before reception stopped (receipt time). */
  lastFrameAt: number;
  /** The own time of the last event received, where it carried one. */
  lastEventAt?: number | undefined;
  lastSequence?: number | undefined;
  lastEventId?: string | undefined;
  reason: string;
}

/** An open gap as kept in Redis, so that a successor can close it if this replica dies. */
interface OpenGapRecord {
  gapId: string;
  instance: string;
  cause: string;
  /** The conservative lower bound (reorder allowance and event times applied). */
  from: number;
  lastSequence?: number;
  lastEventId?: string;
  reason: string;
  /** Whether `stream.gap_opened` was published (active-active: not while another replica receives). */
  announced: boolean;
  /** Refreshed by the owning replica while it runs; stale means the replica is gone. */
  aliveAt: number;
}

export interface GapTrackerOptions {
  stream: string;
  instanceId: string;
  ha: 'active-active' | 'active-passive';
  redis: RedisClient;
  keyPrefix: string;
  gaps: GapReporter;
  metrics: StreamerMetrics;
  logger: Logger;
  now: () => number;
  config: GapsConfig;
  /** How stale another replica's last frame may be and still count as receiving now (a ping interval and a refresh). */
  freshMs: number;
  /** How often `tick` runs (coverage and liveness refresh). */
  refreshMs: number;
  /** A gap already open when the worker starts (a standby taking over). */
  initial?: GapStart & { cause: string };
  /** The shard of a sharded stream: its own keys, and named in its gaps. */
  shard?: number;
  /** Topics to list in every gap as needing a backfill (no REST snapshot for them). */
  backfill?: readonly string[];
  /** A gap closed over a span no replica received (published): heal it (resync). */
  onClosed?(gap: Gap): void;
}

/**
 * One replica's view of a stream's gaps (docs/architecture.md § Gaps): opened the moment this
 * replica stops receiving, announced with `stream.gap_opened` unless another replica is receiving
 * (active-active), closed with `stream.gap` over the span no replica received, published as closed
 * at shutdown when the process stops, and kept in Redis so that a successor closes it if this
 * replica dies first.
 */
export interface GapTracker {
  /** This replica stopped receiving (no receiving socket, or its only one went silent). No-op if a gap is open. */
  open(start: GapStart, cause: string): void;
  /** This replica receives again from `at`. */
  close(at: number): void;
  isOpen(): boolean;
  /** Every `refreshMs`: record reception, keep this replica's open gap alive, close dead replicas' gaps. */
  tick(state: { receiving: boolean; lastHeard: number | undefined }): Promise<void>;
  /** Publishes an open gap as closed at shutdown and waits for gaps being closed. */
  stop(): Promise<void>;
}

export function createGapTracker(options: GapTrackerOptions): GapTracker {
  const { stream, instanceId, ha, redis, now, config } = options;
  const log = options.logger.child({ component: 'gap-tracker', stream });
  const keys = gapKeys(options.keyPrefix, stream, options.shard);
  const shardField = options.shard === undefined ? {} : { shard: options.shard };
  const coverage: ReplicaCoverage = createReplicaCoverage({ redis, key: keys.coverage, instanceId, retentionMs: config.coverageRetentionMs, now });
  const stopping = new AbortController();
  const closing = new Set<Promise<void>>();
  /** Per open gap, its announcement and first save: a close waits for them, so its HDEL comes after the HSET. */
  const begun = new Map<string, Promise<void>>();
  let open: OpenGapRecord | undefined;
  /** Start of this replica's current interval of reception (undefined while a gap is open). */
  let since: number | undefined;

  const quietly = (what: string) => (err: unknown) => log.debug({ err: (err as Error).message }, what);
  const save = (g: OpenGapRecord) => redis.hset(keys.openGaps, g.gapId, JSON.stringify(g)).then(() => undefined);

  function lowerBound(start: GapStart): number {
    // The earlier of the receipt and the event's own time, then the reorder allowance: an event
    // generated a little before the last one received may still have been on its way.
    return Math.min(start.lastFrameAt, start.lastEventAt ?? Number.POSITIVE_INFINITY) - config.reorderAllowanceMs;
  }

  function begin(start: GapStart, cause: string): void {
    const t = now();
    const record: OpenGapRecord = {
      gapId: `${instanceId}:${randomBytes(4).toString('hex')}`, instance: instanceId, cause,
      from: Math.min(lowerBound(start), t),
      ...(start.lastSequence === undefined ? {} : { lastSequence: start.lastSequence }),
      ...(start.lastEventId === undefined ? {} : { lastEventId: start.lastEventId }),
      reason: start.reason.slice(0, 200), announced: false, aliveAt: t,
    };
    open = record;
    const endedInterval = since;
    since = undefined;
    const announce = () => {
      record.announced = true;
      options.gaps.opened({ stream, ...shardField, gapId: record.gapId, from: record.from, reason: record.reason,
        ...(record.lastSequence === undefined ? {} : { lastSequence: record.lastSequence }),
        ...(record.lastEventId === undefined ? {} : { lastEventId: record.lastEventId }) }, cause);
    };
    const work = (async () => {
      // This replica's interval ends at its last frame: a silence detected late must not count as covered.
      if (endedInterval !== undefined) await coverage.record(endedInterval, Math.max(endedInterval, start.lastFrameAt)).catch(quietly('coverage write failed'));
      let othersReceive = false;
      if (ha === 'active-active') othersReceive = await coverage.othersHeardSince(now() - options.freshMs, instanceId).catch(() => false);
      // Announced unless another replica is receiving: then this may be only this replica's drop.
      if (!othersReceive && open === record) announce();
      else if (othersReceive) log.warn({ gapId: record.gapId, cause }, 'this replica stopped receiving; another replica still receives');
      await save(record).catch(quietly('open gap not saved'));
    })();
    begun.set(record.gapId, work);
    track(work.finally(() => begun.delete(record.gapId)));
  }

  function track(p: Promise<void>): void {
    closing.add(p);
    void p.finally(() => closing.delete(p));
  }

  /** Publishes the part of `[g.from, to]` no other replica received; removes the record. */
  async function finish(g: OpenGapRecord, to: number, note: string, wait: boolean): Promise<void> {
    await begun.get(g.gapId);
    let spans: [number, number][] = [[g.from, Math.max(g.from, to)]];
    if (ha === 'active-active') {
      // Others record what they hear every refresh, up to their last frame: give them a ping interval
      // to catch up, and the reorder allowance (their records cover only up to that before their last frame).
      const deadline = now() + (wait ? options.freshMs + config.reorderAllowanceMs : 0);
      for (;;) {
        spans = await coverage.uncovered(g.from, Math.max(g.from, to), g.instance, config.reorderAllowanceMs).catch(() => [[g.from, Math.max(g.from, to)]] as [number, number][]);
        if (spans.length === 0 || now() >= deadline || stopping.signal.aborted) break;
        // Worth waiting only for a replica that receives now and may not have recorded it yet.
        if (!(await coverage.othersHeardSince(now() - options.freshMs, g.instance).catch(() => false))) break;
        await sleep(options.refreshMs, stopping.signal);
      }
    }
    await redis.hdel(keys.openGaps, g.gapId).catch(quietly('open gap not removed'));
    const base = { stream, ...shardField, ...(g.lastSequence === undefined ? {} : { lastSequence: g.lastSequence }), ...(g.lastEventId === undefined ? {} : { lastEventId: g.lastEventId }) };
    if (spans.length === 0) {
      if (!g.announced) {
        log.info({ gapId: g.gapId, cause: g.cause }, 'drop covered by another replica: no gap');
        options.metrics.gapsCovered.inc({ stream });
        return;
      }
      // Announced, then found covered: close it with an empty span, so no one waits for it or backfills.
      const gap: Gap = { ...base, gapId: g.gapId, from: g.from, to: g.from, reason: `${g.reason}; covered by another replica${note}`.slice(0, 200) };
      options.gaps.report(gap, g.cause);
      return;
    }
    const gap: Gap = {
      ...base, ...(g.announced ? { gapId: g.gapId } : {}), from: spans[0]![0], to: spans[spans.length - 1]![1], reason: `${g.reason}${note}`.slice(0, 200),
      ...(options.backfill && options.backfill.length > 0 ? { backfill: options.backfill } : {}),
    };
    options.metrics.gaps.inc({ stream, cause: g.cause });
    options.gaps.report(gap, g.cause);
    options.onClosed?.({ ...gap, gapId: g.gapId });
  }

  if (options.initial) {
    const { cause, ...start } = options.initial;
    begin(start, cause);
  }

  return {
    open(start, cause) {
      if (open || stopping.signal.aborted) return;
      begin(start, cause);
    },
    close(at) {
      since ??= at;
      const g = open;
      if (!g) return;
      open = undefined;
      since = at;
      track(finish(g, at, '', true));
    },
    isOpen: () => open !== undefined,
    async tick({ receiving, lastHeard }) {
      if (stopping.signal.aborted) return;
      const t = now();
      if (open) {
        open.aliveAt = t;
        await save(open).catch(quietly('open gap not refreshed'));
        return;
      }
      if (!receiving || since === undefined) return;
      await coverage.record(since, Math.max(since, lastHeard ?? since)).catch(quietly('coverage write failed'));
      // Gaps left open by replicas that are gone (killed before they could close them): claim and close.
      const all = await redis.hgetall(keys.openGaps).catch(() => ({}) as Record<string, string>);
      for (const [gapId, raw] of Object.entries(all)) {
        let g: OpenGapRecord;
        try {
          g = JSON.parse(raw) as OpenGapRecord;
        } catch {
          continue;
        }
        if (g.instance === instanceId) continue;
        // active-passive: only the owner runs a worker, so any other replica's open gap is its predecessor's.
        if (ha === 'active-active' && t - g.aliveAt < config.replicaStaleMs) continue;
        // HDEL decides which replica closes it: exactly one gets 1.
        if ((await redis.hdel(keys.openGaps, gapId).catch(() => 0)) !== 1) continue;
        log.warn({ gapId, fromInstance: g.instance }, 'closing a gap left open by a replica that is gone');
        track(finish({ ...g, gapId }, Math.max(g.from, since), `; closed by ${instanceId} after ${g.instance} stopped`, true));
      }
    },
    async stop() {
      const g = open;
      open = undefined;
      const at = now();
      stopping.abort(); // closes in progress stop waiting for other replicas' coverage
      if (g) await finish(g, at, '; closed at shutdown (not received again before the replica stopped)', false);
      await Promise.allSettled([...closing]);
    },
  };
}
