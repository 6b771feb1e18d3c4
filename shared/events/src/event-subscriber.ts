import { GtbError } from '@gtb/errors';
import type { Logger } from '@gtb/logger';
import type { Keys, RedisClient } from '@gtb/redis';
import { parseEvent, type AnyCloudEvent } from './cloud-event.js';
import { createEventFilter } from './event-filter.js';
import { decodeEntry, rangeStart, readRange, type Since } from './read-events.js';

export interface EventSubscriberOptions {
  /** A dedicated connection: it is put in subscriber mode. The caller still owns (and quits) it. */
  redis: RedisClient;
  keys: Keys;
  /** Exact types, `<group>.*` (`token.*`) or `*`; all when absent. */
  types?: string[];
  /** Exact profile or stream names; all when absent. */
  subjects?: string[];
  /** Replay stored events after this stream id (exclusive) or from this time (inclusive) before going live. */
  since?: Since;
  /** Called once per event, in order; the next waits for a returned promise. */
  onEvent: (event: AnyCloudEvent) => void | Promise<void>;
  /** Invalid messages, a throwing onEvent, a failed catch-up: reported here, never thrown. */
  onError?: (error: GtbError, context: { streamId?: string; eventId?: string }) => void;
  /** Connection for XRANGE; by default a `redis.duplicate()` the subscriber owns. */
  replayRedis?: RedisClient;
  /** How many recent event ids are remembered to drop doubles (default 10 000). */
  dedupeWindow?: number;
  /** After a reconnect, replay from this long before the drop (ms, default 5000) to cover clock skew. */
  reconnectMarginMs?: number;
  /** Clock in epoch ms (for the reconnect catch-up). */
  now?: () => number;
  logger?: Logger;
}

export interface EventSubscriber {
  /** Subscribes, replays since `since`, then delivers live events. Rejects if Redis fails meanwhile. */
  start(): Promise<void>;
  /** Unsubscribes and waits for the event in delivery to finish. */
  close(): Promise<void>;
}

const PAGE = 500;

/**
 * A lifecycle event subscriber for IdM consumers: replay from the stream, then live pub/sub,
 * without loss or doubles at the switch. How:
 * 1. PSUBSCRIBE first; live messages are buffered, not delivered.
 * 2. Replay with XRANGE pages from `since` until a page comes back short.
 * 3. Move the buffer into the delivery queue and go live, in one synchronous step.
 * The publisher XADDs before it PUBLISHes, so a message received before an XRANGE was sent is
 * already in the stream at or after the replay cursor, and that replay returns it: the buffer is
 * cleared before each page, which bounds it. What is left is deduped by CloudEvent `id`. The same
 * dance runs again after a reconnect, from the time of the drop minus a margin.
 */
export function createEventSubscriber(options: EventSubscriberOptions): EventSubscriber {
  const { redis, keys, since, onEvent, logger, dedupeWindow = 10_000, reconnectMarginMs = 5_000, now = Date.now } = options;
  if (typeof onEvent !== 'function') throw new GtbError('ERR_CONFIG_INVALID', 'createEventSubscriber: option "onEvent" must be a function');
  if (!Number.isInteger(dedupeWindow) || dedupeWindow < 1) throw new GtbError('ERR_CONFIG_INVALID', 'createEventSubscriber: option "dedupeWindow" must be a positive integer');
  if (since !== undefined) rangeStart(since); // throws ERR_VALIDATION now rather than at start()
  const matches = createEventFilter(options.types, options.subjects);
  const log = logger?.child({ component: 'event-subscriber' });
  const report = options.onError ?? ((error: GtbError, context: object) => log?.warn({ err: error, ...context }, 'lifecycle event problem'));
  const pattern = keys.lifecyclePattern();

  let live = false;
  let started = false;
  let closed = false;
  let buffer: string[] = [];
  let queue: Promise<void> = Promise.resolve();
  let replayRedis = options.replayRedis;
  let droppedAt: number | undefined;
  const seen = new Set<string>();

  function safeReport(error: GtbError, context: { streamId?: string; eventId?: string }): void {
    try {
      report(error, context);
    } catch (err) {
      log?.error({ err }, 'onError threw');
    }
  }

  /** Remembers an id; false when it was seen already. Insertion order makes the Set an LRU-ish window. */
  function firstSight(id: string): boolean {
    if (seen.has(id)) return false;
    seen.add(id);
    if (seen.size > dedupeWindow) seen.delete(seen.values().next().value as string);
    return true;
  }

  async function deliver(event: AnyCloudEvent, streamId?: string): Promise<void> {
    if (closed || !firstSight(event.id) || !matches(event)) return;
    try {
      await onEvent(event);
    } catch (err) {
      safeReport(new GtbError('ERR_INTERNAL', 'onEvent threw', { cause: err }), { eventId: event.id, streamId });
    }
  }

  function enqueue(json: string): void {
    queue = queue.then(async () => {
      let event: AnyCloudEvent;
      try {
        event = parseEvent(json);
      } catch (err) {
        safeReport(err instanceof GtbError ? err : new GtbError('ERR_EVENT_INVALID', 'undecodable lifecycle message', { cause: err }), {});
        return;
      }
      await deliver(event);
    });
  }

  function onMessage(_pattern: string, _channel: string, message: string): void {
    if (closed) return;
    if (live) enqueue(message);
    else buffer.push(message);
  }

  async function replay(from: Since): Promise<void> {
    replayRedis ??= redis.duplicate();
    let start = rangeStart(from);
    for (;;) {
      // Everything received so far is in the stream past the cursor (XADD before PUBLISH).
      buffer = [];
      const entries = await readRange(replayRedis, keys.lifecycleStream(), start, '+', PAGE);
      // Wait for earlier deliveries so replayed events keep stream order behind them.
      await queue;
      for (const [streamId, fields] of entries) {
        if (closed) return;
        let event: AnyCloudEvent;
        try {
          event = decodeEntry(fields);
        } catch (err) {
          safeReport(err instanceof GtbError ? err : new GtbError('ERR_EVENT_INVALID', 'undecodable lifecycle entry', { cause: err }), { streamId });
          continue;
        }
        await deliver(event, streamId);
      }
      const last = entries.at(-1);
      if (!last || entries.length < PAGE) return;
      start = `(${last[0]}`;
    }
  }

  /** Buffer live messages, replay, then hand the buffer to the queue and go live. */
  async function sync(from: Since | undefined): Promise<void> {
    live = false;
    try {
      if (from !== undefined) await replay(from);
    } finally {
      const pending = buffer;
      buffer = [];
      for (const message of pending) enqueue(message);
      live = true;
    }
  }

  function onClose(): void {
    if (started && !closed && droppedAt === undefined) droppedAt = now();
  }

  function onReady(): void {
    if (!started || closed || droppedAt === undefined) return;
    const from = new Date(droppedAt - reconnectMarginMs);
    droppedAt = undefined;
    // ioredis resubscribes by itself; subscribing again here makes sure it happened before the replay.
    void (async () => {
      try {
        live = false;
        await redis.psubscribe(pattern);
        await sync(from);
      } catch (err) {
        live = true;
        safeReport(new GtbError('ERR_REDIS_UNAVAILABLE', 'lifecycle catch-up after reconnect failed; events may be missing', { cause: err, details: { since: from.toISOString() } }), {});
      }
    })();
  }

  return {
    async start() {
      if (started) throw new GtbError('ERR_INTERNAL', 'event subscriber already started');
      started = true;
      redis.on('pmessage', onMessage);
      redis.on('close', onClose);
      redis.on('ready', onReady);
      try {
        await redis.psubscribe(pattern);
        await sync(since);
      } catch (err) {
        throw new GtbError('ERR_REDIS_UNAVAILABLE', 'lifecycle subscriber could not start', { cause: err });
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      redis.off('pmessage', onMessage);
      redis.off('close', onClose);
      redis.off('ready', onReady);
      await queue;
      if (started) await redis.punsubscribe(pattern).catch(() => undefined);
      if (replayRedis && replayRedis !== options.replayRedis) replayRedis.disconnect();
    },
  };
}
