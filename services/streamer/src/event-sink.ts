import type { Logger } from '@gtb/logger';
import type { Keys, RedisClient } from '@gtb/redis';
import { inSpan, tracerOf } from '@gtb/tracing';
import { defineWriteCommand, MAX_EVENTS_PER_CALL } from './write-script.js';
import { sleep } from './backoff.js';
import type { ConversationState } from './resync/conversation-tracker.js';

/** One received event on its way to the output stream. */
export interface PendingEvent {
  dedupeId: string;
  topic: string;
  /**
   * The frame as received: the bytes off the socket for a Genesys event (written to Redis as they
   * came: no copy on the JavaScript heap while buffered, no UTF-8 encoding again at the write), a
   * string for the streamer's own entries.
   */
  text: string | Buffer;
  receivedAt: number;
  /** `fingerprint()` of the channel it came on (the id itself is a capability and stays in the process); none for the streamer's own entries. */
  channelFingerprint?: string;
  sequence?: number;
  correlationId?: string;
  /** A conversation event's id and state, read once by parseFrame for the resync's tracker (not written). */
  conversation?: ConversationState;
  /** The streamer's own entries (docs/architecture.md § Wire formats): a gap marker or a snapshot; absent for Genesys events. */
  kind?: 'stream.gap' | 'stream.resync';
  /** The gap a `kind` entry belongs to. */
  gapId?: string;
}

/** Events the buffer could not hold: their exact span, for a `stream.gap`. */
export interface OverflowGap {
  from: number;
  to: number;
  dropped: number;
  lastSequence?: number;
  lastEventId?: string;
}

export interface EventSinkOptions {
  /** A fail-fast client (commands fail at once while disconnected): the buffer is ours, not ioredis'. */
  redis: RedisClient;
  keys: Keys;
  stream: string;
  instanceId: string;
  dedupeWindowMs: number;
  maxBuffered: number;
  batchSize: number;
  maxStreamLength?: number;
  writeTimeoutMs: number;
  /**
   * How many recently acknowledged events are written again once writes work after a failure
   * (default 1000; 0 turns it off). A Redis that failed over (Sentinel, Cluster) may have lost
   * writes its old master acknowledged but had not yet replicated; the dedupe markers went with
   * them, so re-sending lets exactly the lost ones back in and the rest count as duplicates.
   */
  resendOnRecovery?: number;
  now: () => number;
  logger: Logger;
  /** Each event pushed, doubles included (the dedupe happens at the write). */
  onPushed?(event: PendingEvent): void;
  /** After each acknowledged batch: how many were new, how many doubles, and each new one's lag. */
  onWritten?(written: number, duplicates: number, lagsMs: number[]): void;
  /** The buffer overflowed and then had room again (or the sink closed): these events are lost. */
  onOverflow(gap: OverflowGap): void;
  /** A newer owner fenced this replica out (active-passive). */
  onFencedOut?(): void;
}

const tracer = tracerOf('gtb.streamer');

/** The bounded, pipelined writer of one stream's events into `gtb:events:{<stream>}`. */
export interface EventSink {
  push(event: PendingEvent): void;
  /** The fencing number writes must carry (active-passive), or undefined (active-active). */
  setFence(fence: number | undefined): void;
  /** Events buffered and not yet acknowledged by Redis. */
  pending(): number;
  /** True while the last write attempt failed (Redis down or slow). */
  degraded(): boolean;
  /** Resolves when everything pushed so far is written, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean>;
  /** Stops the loop after a final drain attempt; reports an open overflow. */
  close(timeoutMs?: number): Promise<void>;
}

/** Starts the writer loop. */
export function createEventSink(options: EventSinkOptions): EventSink {
  const { redis, keys, stream, now, logger, maxBuffered, batchSize } = options;
  const log = logger.child({ component: 'event-sink', stream });
  let queue: PendingEvent[] = [];
  let head = 0;
  let fence: number | undefined;
  let overflow: OverflowGap | undefined;
  let lastAccepted: PendingEvent | undefined;
  let failing = false;
  let closed = false;
  // Acknowledged events, newest last, and whether they must be re-sent before the next batch.
  const resendLimit = options.resendOnRecovery ?? 1_000;
  let recent: { event: PendingEvent; ackedAt: number }[] = [];
  let resendDue = false;
  let wake: (() => void) | undefined;
  const stop = new AbortController();
  const size = () => queue.length - head;
  defineWriteCommand(redis);

  function push(event: PendingEvent): void {
    if (closed) return;
    options.onPushed?.(event);
    if (size() >= maxBuffered) {
      // Never silent: the span of what we could not keep becomes a stream.gap once known.
      if (!overflow) {
        overflow = {
          from: event.receivedAt, to: event.receivedAt, dropped: 0,
          ...(lastAccepted?.sequence === undefined ? {} : { lastSequence: lastAccepted.sequence }),
          ...(lastAccepted?.correlationId === undefined ? {} : { lastEventId: lastAccepted.correlationId }),
        };
        log.error({ buffered: size(), maxBuffered }, 'event buffer full: dropping events until Redis catches up (a stream.gap will follow)');
      }
      overflow.to = event.receivedAt;
      overflow.dropped += 1;
      return;
    }
    reportOverflow();
    queue.push(event);
    lastAccepted = event;
    wake?.();
  }

  function reportOverflow(): void {
    if (!overflow) return;
    const gap = overflow;
    overflow = undefined;
    options.onOverflow(gap);
  }

  /**
   * Writes one batch; returns how many were new. Each batch is a span of its own trace (a batch
   * mixes every socket's events), with its EVALSHA pipeline below it.
   */
  function writeBatch(batch: PendingEvent[]): Promise<number> {
    return inSpan(tracer, 'gtb.streamer.batch_write', { root: true, attributes: { 'gtb.stream': stream, 'gtb.batch.size': batch.length } }, async (span) => {
      const written = await writeBatchNow(batch);
      span.setAttribute('gtb.batch.written', written);
      return written;
    });
  }

  async function writeBatchNow(batch: PendingEvent[]): Promise<number> {
    const pipeline = redis.pipeline();
    const maxLen = String(options.maxStreamLength ?? 0);
    const fenceArg = String(fence ?? 0);
    const eventsKey = keys.events(stream);
    const fenceKey = keys.ownerFence(stream);
    for (let from = 0; from < batch.length; from += MAX_EVENTS_PER_CALL) {
      const group = batch.slice(from, from + MAX_EVENTS_PER_CALL);
      const dedupeKeys: string[] = [];
      const argv: (string | Buffer)[] = [String(options.dedupeWindowMs), maxLen, fenceArg];
      for (const e of group) {
        dedupeKeys.push(keys.dedupe(stream, e.dedupeId));
        const at = argv.length;
        argv.push('', 'id', e.dedupeId, 'topic', e.topic, 'event', e.text,
          'received_at', new Date(e.receivedAt).toISOString(), 'instance', options.instanceId);
        if (e.channelFingerprint !== undefined) argv.push('channel_fingerprint', e.channelFingerprint);
        if (e.sequence !== undefined) argv.push('sequence', String(e.sequence));
        if (e.kind !== undefined) argv.push('kind', e.kind, 'gap_id', e.gapId ?? '');
        argv[at] = String(argv.length - at - 1);
      }
      pipeline.gtbStreamWrite(2 + group.length, eventsKey, fenceKey, ...dedupeKeys, ...argv);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Redis in ${options.writeTimeoutMs} ms`)), options.writeTimeoutMs);
    });
    let results: [Error | null, unknown][] | null;
    try {
      results = await Promise.race([pipeline.exec(), timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (!results) throw new Error('pipeline discarded');
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0]!;
    let written = 0;
    let duplicates = 0;
    const lags: number[] = [];
    const t = now();
    let i = 0;
    for (const [, res] of results) {
      const perEvent = res as number[];
      if (perEvent.length === 1 && perEvent[0] === -1) throw new FencedOut();
      for (const r of perEvent) {
        if (r === 1) {
          written += 1;
          lags.push(t - batch[i]!.receivedAt);
        } else if (r === 0) {
          duplicates += 1;
        }
        i += 1;
      }
    }
    options.onWritten?.(written, duplicates, lags);
    return written;
  }

  function remember(batch: PendingEvent[]): void {
    if (resendLimit === 0) return;
    const t = now();
    for (const event of batch) recent.push({ event, ackedAt: t });
    if (recent.length > resendLimit * 2) recent = recent.slice(-resendLimit);
  }

  /** Re-sends the recent tail after a failure; only what Redis lost is written again. */
  async function resendRecent(): Promise<void> {
    // Past half the dedupe window a marker may have lapsed: re-sending would write a double.
    const horizon = now() - options.dedupeWindowMs / 2;
    const tail = recent.slice(-resendLimit).filter((r) => r.ackedAt >= horizon).map((r) => r.event);
    let restored = 0;
    for (let i = 0; i < tail.length; i += batchSize) restored += await writeBatch(tail.slice(i, i + batchSize));
    // Restored events were lost by Redis (an unreplicated tail at a failover): worth a warning.
    (restored > 0 ? log.warn : log.info).call(log, { resent: tail.length, restored }, 're-sent recently acknowledged events after a write failure');
  }

  const loop = (async () => {
    let attempt = 0;
    while (!stop.signal.aborted) {
      if (size() === 0 && !resendDue) {
        if (closed) break;
        await new Promise<void>((resolve) => { wake = resolve; });
        wake = undefined;
        continue;
      }
      const batch = queue.slice(head, head + batchSize);
      try {
        if (resendDue) {
          await resendRecent();
          resendDue = false;
        }
        if (batch.length > 0) await writeBatch(batch);
        remember(batch);
        head += batch.length;
        if (head > 10_000 && head * 2 > queue.length) {
          queue = queue.slice(head);
          head = 0;
        }
        if (failing) log.info({ buffered: size() }, 'redis writes recovered');
        failing = false;
        attempt = 0;
        if (size() < maxBuffered) reportOverflow();
      } catch (err) {
        if (err instanceof FencedOut) {
          log.warn({ dropped: size() }, 'fenced out by a newer owner: this replica stops writing');
          queue = [];
          head = 0;
          recent = [];
          resendDue = false;
          options.onFencedOut?.();
          continue;
        }
        if (!failing) log.warn({ err: (err as Error).message, buffered: size() }, 'redis write failed; buffering and retrying');
        failing = true;
        resendDue = recent.length > 0;
        await sleep(Math.min(1_000, 50 * 2 ** Math.min(attempt++, 5)), stop.signal);
      }
    }
  })();

  return {
    push,
    setFence(f) { fence = f; },
    pending: size,
    degraded: () => failing,
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (size() > 0 && Date.now() < deadline) await sleep(10);
      return size() === 0;
    },
    async close(timeoutMs = 5_000) {
      if (closed) return;
      closed = true;
      wake?.();
      const drained = await this.drain(timeoutMs);
      if (!drained) {
        const left = queue.slice(head);
        log.error({ undelivered: left.length }, 'closing with undelivered events (a stream.gap follows)');
        const first = left[0]!;
        const last = left[left.length - 1]!;
        const gap: OverflowGap = overflow ?? { from: first.receivedAt, to: last.receivedAt, dropped: 0 };
        gap.from = Math.min(gap.from, first.receivedAt);
        gap.to = Math.max(gap.to, last.receivedAt);
        gap.dropped += left.length;
        overflow = gap;
      }
      stop.abort();
      wake?.();
      await loop;
      reportOverflow();
    },
  };
}

class FencedOut extends Error {}
