import { parseEvent, type AnyCloudEvent } from '@gtb/events';
import type { Keys, RedisClient } from '@gtb/redis';
import type { Logger } from '@gtb/logger';

/** A lifecycle event with its id in the `gtb:lifecycle` stream (the SSE `id`, a cursor to resume from). */
export interface FeedEvent {
  id: string;
  event: AnyCloudEvent;
}

/** Which events a reader wants: any of the types, profiles, streams given (all when a list is empty). */
export interface FeedFilter {
  types: string[];
  profiles: string[];
  streams: string[];
}

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

export const isStreamId = (value: string): boolean => STREAM_ID.test(value);

export function matches(filter: FeedFilter, event: AnyCloudEvent): boolean {
  if (filter.types.length > 0 && !filter.types.includes(event.type)) return false;
  const data = event.data as { profile?: string; stream?: string };
  if (filter.profiles.length > 0 && !filter.profiles.includes(data.profile ?? (event.type.startsWith('stream.') ? '' : event.subject))) return false;
  if (filter.streams.length > 0 && !filter.streams.includes(data.stream ?? '')) return false;
  return true;
}

function decode(entries: [string, string[]][]): FeedEvent[] {
  const out: FeedEvent[] = [];
  for (const [id, fields] of entries) {
    const at = fields.indexOf('event');
    const json = at >= 0 && at % 2 === 0 ? fields[at + 1] : undefined;
    if (json === undefined) continue;
    try {
      out.push({ id, event: parseEvent(json) });
    } catch {
      // An entry that fails validation is never shown (it could carry something it must not).
    }
  }
  return out;
}

export interface LifecycleFeedOptions {
  redis: RedisClient;
  keys: Keys;
  logger: Logger;
  /** Longest XREAD BLOCK; also how long a stopped tail may take to notice. */
  blockMs?: number;
}

/**
 * The lifecycle stream for the console and other watchers: the recent events (XREVRANGE), what
 * followed a cursor (XRANGE), and one live tail per replica (XREAD BLOCK on a connection of its own,
 * opened while someone listens) fanned out to every listener. Nothing is kept per listener but a
 * callback: the broker holds no session.
 */
export function createLifecycleFeed(options: LifecycleFeedOptions) {
  const { redis, keys, logger, blockMs = 5000 } = options;
  const listeners = new Set<(events: FeedEvent[]) => void>();
  let tail: RedisClient | undefined;
  let running: Promise<void> | undefined;

  async function loop(connection: RedisClient, start: string): Promise<void> {
    // Not '$': what arrives while the connection comes up or between two reads would be missed.
    // Start at the first listener's cursor, then go on from the last id read.
    let last = start;
    while (tail === connection) {
      try {
        const res = (await connection.xread('COUNT', 500, 'BLOCK', blockMs, 'STREAMS', keys.lifecycleStream(), last)) as [string, [string, string[]][]][] | null;
        const entries = res?.[0]?.[1] ?? [];
        if (entries.length === 0) continue;
        last = entries[entries.length - 1]![0];
        const events = decode(entries);
        if (events.length > 0) for (const l of listeners) l(events);
      } catch (err) {
        if (tail !== connection) return;
        logger.debug({ err: (err as Error).message }, 'lifecycle tail read failed; retrying');
        await new Promise((r) => setTimeout(r, 1000).unref());
      }
    }
  }

  function stopTail(): void {
    const connection = tail;
    tail = undefined;
    connection?.disconnect();
  }

  return {
    /** The newest `count` events (oldest first) matching the filter, among the newest `scan` entries. */
    async recent(count: number, filter: FeedFilter, scan = Math.max(count * 4, 1000)): Promise<FeedEvent[]> {
      const entries = (await redis.xrevrange(keys.lifecycleStream(), '+', '-', 'COUNT', scan)) as [string, string[]][];
      return decode(entries).filter((e) => matches(filter, e.event)).slice(0, count).reverse();
    },

    /** The id of the newest entry now ('0-0' when the stream is empty): where a new reader starts. */
    async newestId(): Promise<string> {
      const newest = (await redis.xrevrange(keys.lifecycleStream(), '+', '-', 'COUNT', 1)) as [string, string[]][];
      return newest[0]?.[0] ?? '0-0';
    },

    /** Events after `id` (exclusive), oldest first, at most `count`: what a reconnecting reader missed. */
    async after(id: string, count: number): Promise<FeedEvent[]> {
      return decode((await redis.xrange(keys.lifecycleStream(), `(${id}`, '+', 'COUNT', count)) as [string, string[]][]);
    },

    /**
     * Calls `listener` with each batch of new events until the returned function is called. A tail
     * started by this call reads from `from` on; a running one is already further on, so the caller
     * catches up with `after(from)` once listening.
     */
    listen(listener: (events: FeedEvent[]) => void, from: string): () => void {
      listeners.add(listener);
      if (!tail) {
        const connection = redis.duplicate() as RedisClient;
        connection.on('error', (err: Error) => logger.debug({ err: err.message }, 'lifecycle tail connection error'));
        tail = connection;
        running = loop(connection, from).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'lifecycle tail stopped'));
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) stopTail();
      };
    },

    async close(): Promise<void> {
      listeners.clear();
      stopTail();
      await running;
    },
  };
}

export type LifecycleFeed = ReturnType<typeof createLifecycleFeed>;
