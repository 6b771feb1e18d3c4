import type { EventData, EventPublisher } from '@gtb/events';
import type { Logger } from '@gtb/logger';
import { startSpan, tracerOf, withActiveSpan, type Span } from '@gtb/tracing';
import { sleep } from './backoff.js';
import { backfillPatterns } from './resync/topic-families.js';

const tracer = tracerOf('gtb.streamer');

/** A gap as the streamer knows it: epoch ms bounds and what was last seen before it. */
export interface Gap {
  stream: string;
  /** Names the gap across `stream.gap_opened` and `stream.gap` (absent: never announced open). */
  gapId?: string;
  from: number;
  to: number;
  lastSequence?: number;
  lastEventId?: string;
  reason: string;
  /** The shard (one channel per `limits.topicsPerChannel` topics) of a sharded stream. */
  shard?: number;
  /** Topics no REST snapshot brings up to date: the consumer backfills them. */
  backfill?: readonly string[];
}

/** Publishes `stream.gap_opened` and `stream.gap`, retrying until Redis takes them: a gap is never dropped silently. */
export interface GapReporter {
  /** A gap starts now: `stream.gap_opened` (logged at error level at once). */
  opened(gap: Omit<Gap, 'to'> & { gapId: string }, cause: string): void;
  report(gap: Gap, cause: string): void;
  /** Gaps not yet published (Redis down). */
  pending(): number;
  /** Tries once more to publish what is pending, then stops retrying. */
  close(): Promise<void>;
}

export interface GapReporterOptions {
  /** Lifecycle events: where `stream.gap` goes. */
  lifecycle: EventPublisher;
  logger: Logger;
  onReported?(gap: Gap, cause: string): void;
  retryMs?: number;
}

/** Builds the reporter. Every gap is logged at once (error level), then published with retries. */
export function createGapReporter(options: GapReporterOptions): GapReporter {
  const log = options.logger.child({ component: 'gap-reporter' });
  const retryMs = options.retryMs ?? 1_000;
  type Item = { type: 'stream.gap'; data: EventData<'stream.gap'> } | { type: 'stream.gap_opened'; data: EventData<'stream.gap_opened'> };
  const queue: Item[] = [];
  const stop = new AbortController();
  let running: Promise<void> | undefined;

  async function run(): Promise<void> {
    while (queue.length > 0) {
      const item = queue[0]!;
      const published = item.type === 'stream.gap'
        ? await options.lifecycle.tryPublish('stream.gap', item.data.stream, item.data)
        : await options.lifecycle.tryPublish('stream.gap_opened', item.data.stream, item.data);
      if (published) queue.shift();
      else if (stop.signal.aborted) return;
      else await sleep(retryMs, stop.signal);
    }
  }

  function enqueue(item: Item): void {
    queue.push(item);
    running ??= run().finally(() => { running = undefined; });
  }

  /** An instant span for an opened gap; a closed gap's span covers its bounds (from → to) on the timeline. */
  function traceGap(name: string, data: { stream: string; gapId?: string | undefined; reason: string }, cause: string, from: number, to?: number): Span {
    const span = startSpan(tracer, name, {
      root: true,
      ...(to === undefined ? {} : { startTime: from }),
      attributes: { 'gtb.stream': data.stream, 'gtb.gap.id': data.gapId, 'gtb.gap.reason': data.reason, 'gtb.gap.cause': cause, ...(to === undefined ? {} : { 'gtb.gap.ms': Math.max(0, to - from) }) },
    });
    span.end(to);
    return span;
  }

  return {
    opened(gap, cause) {
      const data: EventData<'stream.gap_opened'> = {
        stream: gap.stream,
        gapId: gap.gapId,
        from: new Date(gap.from).toISOString(),
        ...(gap.lastSequence === undefined ? {} : { lastSequence: gap.lastSequence }),
        ...(gap.lastEventId === undefined ? {} : { lastEventId: gap.lastEventId }),
        reason: gap.reason.slice(0, 200) || 'gap',
        ...(gap.shard === undefined ? {} : { shard: gap.shard }),
      };
      log.error({ gap: data, cause }, 'events may be missing from now on: gap opened');
      // Published in the gap span's context, so the event's traceparent names it.
      withActiveSpan(traceGap('gtb.streamer.gap_opened', data, String(cause), gap.from), () => enqueue({ type: 'stream.gap_opened', data }));
    },
    report(gap, cause) {
      const to = Math.max(gap.to, gap.from);
      const data: EventData<'stream.gap'> = {
        stream: gap.stream,
        ...(gap.gapId === undefined ? {} : { gapId: gap.gapId }),
        from: new Date(gap.from).toISOString(),
        to: new Date(to).toISOString(),
        ...(gap.lastSequence === undefined ? {} : { lastSequence: gap.lastSequence }),
        ...(gap.lastEventId === undefined ? {} : { lastEventId: gap.lastEventId }),
        reason: gap.reason.slice(0, 200) || 'gap',
        ...(gap.shard === undefined ? {} : { shard: gap.shard }),
        ...(gap.backfill && gap.backfill.length > 0 ? { backfill: backfillPatterns(gap.backfill), backfillTopicCount: gap.backfill.length } : {}),
      };
      log.error({ gap: { ...data, backfill: undefined }, cause }, 'events may be missing: gap reported');
      const span = traceGap('gtb.streamer.gap', data, String(cause), gap.from, to);
      options.onReported?.(gap, cause);
      withActiveSpan(span, () => enqueue({ type: 'stream.gap', data }));
    },
    pending: () => queue.length,
    async close() {
      stop.abort();
      await running;
      if (queue.length > 0) log.error({ unpublished: queue }, 'gaps left unpublished at shutdown (they are in this log)');
    },
  };
}
