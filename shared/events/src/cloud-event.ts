import { z } from 'zod';
import { GtbError } from '@gtb/errors';
import { NAME_PATTERN } from '@gtb/redis';
import { TRACEPARENT_PATTERN } from '@gtb/tracing';
import { EVENT_DATA_SCHEMAS, EVENT_TYPES, isEventType, subjectField, type EventData, type EventType } from './event-data.js';
import { findSecretLike } from './secret-check.js';

/**
 * A lifecycle event as CloudEvents 1.0 structured JSON. `type` is the bare type name
 * (`token.rotated`), not a reverse-DNS `com.gtb.token.rotated`: the names are fixed (consumers
 * subscribe to them by name), the pub/sub channel `gtb:lifecycle:<type>` carries them, and
 * `source` (`/gtb/<process>/<instance>`) already scopes them to this system, which is what the
 * CloudEvents prefix advice is for.
 */
export interface CloudEvent<T extends EventType = EventType> {
  specversion: '1.0';
  /** A UUID, unique per event: what consumers dedupe on. */
  id: string;
  /** `/gtb/<process>/<instance>`. */
  source: string;
  type: T;
  /** The profile (token.*, lease.*) or stream (stream.*) the event is about. */
  subject: string;
  /** RFC 3339 time the event was built. */
  time: string;
  datacontenttype: 'application/json';
  /**
   * The CloudEvents distributed-tracing extension: the W3C `traceparent` of the span that caused the
   * event (a mint, a lease grant, a rollover), present when the publishing process traces (OTEL_*),
   * so a consumer can join the event to that trace. Absent when tracing is off.
   */
  traceparent?: string;
  data: EventData<T>;
}

/** Any lifecycle event, narrowed by `type`. */
export type AnyCloudEvent = { [K in EventType]: CloudEvent<K> }[EventType];

/** What `source` must look like: `/gtb/<process>/<instance>`. */
export const SOURCE_PATTERN = /^\/gtb\/[A-Za-z0-9_.-]{1,64}\/[A-Za-z0-9_.:-]{1,128}$/;

/** The `source` of events from one process instance, e.g. `eventSource('broker', hostname)`. */
export function eventSource(processName: string, instance: string): string {
  const source = `/gtb/${processName}/${instance}`;
  if (!SOURCE_PATTERN.test(source)) throw new GtbError('ERR_CONFIG_INVALID', `event source ${JSON.stringify(source.slice(0, 200))} must match ${SOURCE_PATTERN}`);
  return source;
}

const envelope = z.strictObject({
  specversion: z.literal('1.0'),
  id: z.uuid(),
  source: z.string().regex(SOURCE_PATTERN, 'must be /gtb/<process>/<instance>'),
  subject: z.string().regex(NAME_PATTERN, 'must be a profile or stream name'),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  traceparent: z.string().regex(TRACEPARENT_PATTERN, 'must be a W3C traceparent (version 00)').optional(),
});

function consistent(event: { type: EventType; subject: string; data: unknown }, ctx: z.RefinementCtx): void {
  const field = subjectField(event.type);
  if ((event.data as Record<string, unknown>)[field] !== event.subject) {
    ctx.addIssue({ code: 'custom', path: ['subject'], message: `subject must equal data.${field}` });
  }
  const secret = findSecretLike(event.data, ['data']);
  if (secret) ctx.addIssue({ code: 'custom', path: secret.path, message: `looks like a secret (${secret.rule})`, params: { secretLike: true } });
}

/** The zod schema of one event type's whole CloudEvent (envelope, data, subject and secret checks). */
export const CLOUD_EVENT_SCHEMAS = Object.fromEntries(
  EVENT_TYPES.map((type) => [type, envelope.extend({ type: z.literal(type), data: EVENT_DATA_SCHEMAS[type] }).superRefine(consistent)]),
) as unknown as { [K in EventType]: z.ZodType<CloudEvent<K>> };

/** The zod schema of any lifecycle event. */
export const cloudEventSchema = z.discriminatedUnion(
  'type',
  EVENT_TYPES.map((type) => envelope.extend({ type: z.literal(type), data: EVENT_DATA_SCHEMAS[type] })) as unknown as [z.ZodObject, ...z.ZodObject[]],
).superRefine((e, ctx) => consistent(e as unknown as AnyCloudEvent, ctx)) as unknown as z.ZodType<AnyCloudEvent>;

function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  // Paths and our messages only: zod's messages name what was expected, never the received value.
  return error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/**
 * Validates an event (an object or its JSON text) and returns it typed. Throws GtbError
 * ERR_EVENT_SECRET_IN_DATA when any string in `data` looks like a token or secret (checked first,
 * even under unknown keys), else ERR_EVENT_INVALID. Errors never quote the offending value.
 */
export function parseEvent(input: unknown): AnyCloudEvent {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw new GtbError('ERR_EVENT_INVALID', 'lifecycle event is not JSON');
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new GtbError('ERR_EVENT_INVALID', 'lifecycle event must be a JSON object');
  const secret = findSecretLike((value as Record<string, unknown>).data, ['data']);
  if (secret) {
    throw new GtbError('ERR_EVENT_SECRET_IN_DATA', `lifecycle event ${secret.path.join('.')} looks like a secret (${secret.rule})`, { details: { path: secret.path.join('.'), rule: secret.rule } });
  }
  const type = (value as Record<string, unknown>).type;
  if (!isEventType(type)) throw new GtbError('ERR_EVENT_INVALID', 'unknown or missing lifecycle event type', { details: { types: EVENT_TYPES } });
  const result = CLOUD_EVENT_SCHEMAS[type].safeParse(value);
  if (!result.success) {
    const issues = issuesOf(result.error);
    const first = issues[0];
    throw new GtbError('ERR_EVENT_INVALID', `invalid ${type} event: ${first ? `${first.path || '(root)'}: ${first.message}` : 'failed validation'}`, { details: { type, issues } });
  }
  return result.data as AnyCloudEvent;
}
