import { randomUUID as nodeRandomUUID } from 'node:crypto';
import { GtbError, isGtbError } from '@gtb/errors';
import type { Logger } from '@gtb/logger';
import type { Keys, RedisClient } from '@gtb/redis';
import { currentTraceparent } from '@gtb/tracing';
import { parseEvent, SOURCE_PATTERN, type CloudEvent } from './cloud-event.js';
import type { EventData, EventType } from './event-data.js';

export interface EventPublisherOptions {
  redis: RedisClient;
  /** `createKeys(prefix)` of @gtb/redis. */
  keys: Keys;
  /** `/gtb/<process>/<instance>`; see `eventSource()`. */
  source: string;
  /** Approximate cap of the lifecycle stream (`XADD MAXLEN ~`). */
  maxStreamLength?: number;
  /** Clock in epoch ms, for the event `time`. */
  now?: () => number;
  logger: Logger;
  /** Event id generator (a UUID). */
  randomUUID?: () => string;
  /** How long one publish may wait on Redis before it fails with ERR_REDIS_UNAVAILABLE. */
  timeoutMs?: number;
}

export interface EventPublisher {
  /**
   * Validates and publishes one event: rejects with GtbError ERR_EVENT_INVALID or
   * ERR_EVENT_SECRET_IN_DATA (nothing sent), or ERR_REDIS_UNAVAILABLE (logged). Await or catch it.
   */
  publish<T extends EventType>(type: T, subject: string, data: EventData<T>): Promise<CloudEvent<T>>;
  /** Like `publish`, but never rejects: resolves undefined on failure, which is logged. For fire-and-forget callers. */
  tryPublish<T extends EventType>(type: T, subject: string, data: EventData<T>): Promise<CloudEvent<T> | undefined>;
}

/** Builds the typed publisher of lifecycle events (Redis pub/sub + the lifecycle stream). */
export function createEventPublisher(options: EventPublisherOptions): EventPublisher {
  const { redis, keys, source, maxStreamLength = 10_000, now = Date.now, logger, randomUUID = nodeRandomUUID, timeoutMs = 5_000 } = options;
  if (!SOURCE_PATTERN.test(source)) throw new GtbError('ERR_CONFIG_INVALID', `createEventPublisher: option "source" must match ${SOURCE_PATTERN}`);
  if (!Number.isInteger(maxStreamLength) || maxStreamLength < 1) throw new GtbError('ERR_CONFIG_INVALID', 'createEventPublisher: option "maxStreamLength" must be a positive integer');
  if (!(timeoutMs > 0)) throw new GtbError('ERR_CONFIG_INVALID', 'createEventPublisher: option "timeoutMs" must be positive');
  const log = logger.child({ component: 'event-publisher' });

  async function send(event: CloudEvent, json: string): Promise<void> {
    // XADD first, PUBLISH second: a subscriber that missed the PUBLISH (it subscribed just after)
    // is then sure to find the event in the stream when it replays (see event-subscriber.ts).
    // A pipeline, not MULTI: the channel and the stream key may live on different Cluster nodes.
    // PUBLISH has no key, so ioredis routes the pipeline by the stream key and Cluster fans out.
    const pipeline = redis.pipeline()
      .xadd(keys.lifecycleStream(), 'MAXLEN', '~', maxStreamLength, '*', 'event', json)
      .publish(keys.lifecycleChannel(event.type), json);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Redis in ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const results = await Promise.race([pipeline.exec(), timeout]);
      const failed = (results ?? []).find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('pipeline discarded');
    } finally {
      clearTimeout(timer);
    }
  }

  async function publish<T extends EventType>(type: T, subject: string, data: EventData<T>): Promise<CloudEvent<T>> {
    // Read before the first await, in the caller's context: the span that caused the event.
    const traceparent = currentTraceparent();
    const candidate = {
      specversion: '1.0',
      id: randomUUID(),
      source,
      type,
      subject,
      time: new Date(now()).toISOString(),
      datacontenttype: 'application/json',
      ...(traceparent ? { traceparent } : {}),
      data,
    };
    let event: CloudEvent<T>;
    try {
      event = parseEvent(candidate) as unknown as CloudEvent<T>;
    } catch (err) {
      // A bad event is a bug in the caller: say which field, never the value.
      log.error({ err, type, subject: typeof subject === 'string' ? subject.slice(0, 64) : undefined }, 'lifecycle event refused');
      throw err;
    }
    const json = JSON.stringify(event);
    try {
      await send(event, json);
    } catch (err) {
      log.warn({ err, type, eventId: event.id, subject }, 'lifecycle event not published');
      throw new GtbError('ERR_REDIS_UNAVAILABLE', `lifecycle event ${type} not published`, { cause: err, details: { eventId: event.id } });
    }
    log.debug({ type, eventId: event.id, subject }, 'lifecycle event published');
    return event;
  }

  async function tryPublish<T extends EventType>(type: T, subject: string, data: EventData<T>): Promise<CloudEvent<T> | undefined> {
    try {
      return await publish(type, subject, data);
    } catch (err) {
      // Already logged by publish; anything else would be a bug here, log it too.
      if (!isGtbError(err)) log.error({ err, type }, 'lifecycle event publish failed unexpectedly');
      return undefined;
    }
  }

  return { publish, tryPublish };
}
