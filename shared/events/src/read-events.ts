import { GtbError } from '@gtb/errors';
import type { Keys, RedisClient } from '@gtb/redis';
import { parseEvent, type AnyCloudEvent } from './cloud-event.js';

/** Where a replay starts: a lifecycle stream id (exclusive) or a time (inclusive). */
export type Since = string | Date;

/** One event read back from the lifecycle stream, with its stream id (the cursor to go on from). */
export interface StoredEvent {
  streamId: string;
  event: AnyCloudEvent;
}

const STREAM_ID = /^\d{1,20}(?:-\d{1,20})?$/;

/**
 * The XRANGE start for `since`. A stream id is exclusive (`(id`, Redis ≥ 6.2): the caller has
 * seen it. A time becomes the first id of that millisecond, since stream ids start with the
 * Redis server's clock in ms: this is only as exact as that clock agrees with the caller's.
 */
export function rangeStart(since: Since): string {
  if (since instanceof Date) {
    const ms = since.getTime();
    if (!Number.isFinite(ms)) throw new GtbError('ERR_VALIDATION', '"since" is an invalid Date');
    return `${Math.max(0, Math.floor(ms))}-0`;
  }
  if (since === '-' || since === '0') return '-';
  if (!STREAM_ID.test(since)) throw new GtbError('ERR_VALIDATION', '"since" must be a stream id like 1700000000000-0, or a Date');
  return `(${since}`;
}

/** The XRANGE end for `until` (inclusive); `+` when absent. */
export function rangeEnd(until?: Since): string {
  if (until === undefined) return '+';
  if (until instanceof Date) {
    const ms = until.getTime();
    if (!Number.isFinite(ms)) throw new GtbError('ERR_VALIDATION', '"until" is an invalid Date');
    // A bare millisecond as an end means its last sequence number.
    return String(Math.max(0, Math.floor(ms)));
  }
  if (!STREAM_ID.test(until)) throw new GtbError('ERR_VALIDATION', '"until" must be a stream id or a Date');
  return until;
}

/** Decodes one XRANGE entry; throws ERR_EVENT_INVALID or ERR_EVENT_SECRET_IN_DATA. */
export function decodeEntry(fields: string[]): AnyCloudEvent {
  const at = fields.indexOf('event');
  const json = at >= 0 && at % 2 === 0 ? fields[at + 1] : undefined;
  if (json === undefined) throw new GtbError('ERR_EVENT_INVALID', 'lifecycle stream entry has no "event" field');
  return parseEvent(json);
}

/** One page of raw entries from `start` to `end`, in stream order. */
export async function readRange(redis: RedisClient, key: string, start: string, end: string, count: number): Promise<[string, string[]][]> {
  return (await redis.xrange(key, start, end, 'COUNT', count)) as [string, string[]][];
}

export interface ReadEventsOptions {
  redis: RedisClient;
  keys: Keys;
  /** Stream id (exclusive) or time (inclusive); from the oldest kept event when absent. */
  since?: Since;
  /** Stream id or time (inclusive); up to the newest when absent. */
  until?: Since;
  /** At most this many entries are read (default 1000, max 10 000). Page on with the last `streamId`. */
  count?: number;
  /** Entries that fail validation are skipped and reported here. */
  onInvalid?: (error: GtbError, streamId: string) => void;
}

/** Reads stored lifecycle events, oldest first (for the CLI and for replays). */
export async function readEvents(options: ReadEventsOptions): Promise<StoredEvent[]> {
  const { redis, keys, since, until, count = 1000, onInvalid } = options;
  if (!Number.isInteger(count) || count < 1 || count > 10_000) throw new GtbError('ERR_VALIDATION', '"count" must be an integer from 1 to 10000');
  const entries = await readRange(redis, keys.lifecycleStream(), since === undefined ? '-' : rangeStart(since), rangeEnd(until), count);
  const out: StoredEvent[] = [];
  for (const [streamId, fields] of entries) {
    try {
      out.push({ streamId, event: decodeEntry(fields) });
    } catch (err) {
      onInvalid?.(err instanceof GtbError ? err : new GtbError('ERR_EVENT_INVALID', 'undecodable lifecycle stream entry', { cause: err }), streamId);
    }
  }
  return out;
}
