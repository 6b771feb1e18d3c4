import { createHash } from 'node:crypto';
import { conversationStateOf, type ConversationState } from './resync/conversation-tracker.js';

/** A `v2.system.*` frame: a control message Genesys sends to every channel (never forwarded). */
export type SystemFrame = { kind: 'system'; topic: string; body: Record<string, unknown> };

/** A notification frame, sorted by what the streamer does with it. */
export type Frame =
  | { kind: 'heartbeat' }
  | { kind: 'pong' }
  | SystemFrame
  | { kind: 'event'; topic: string; dedupeId: string; correlationId?: string; sequence?: number; text: string; eventAt?: number; conversation?: ConversationState }
  /** Not JSON, or JSON of no known shape (e.g. `{"result":"404"}`, a channel gone; see docs/genesys-behaviour.md § WebSocket). */
  | { kind: 'unknown'; result?: string };

/**
 * `eventBody` fields (dotted for nested ones) that carry an event's own time: presence has
 * `modifiedDate`, routing status `routingStatus.startTime` (docs/genesys-behaviour.md); conversation
 * events have none at the top level.
 */
export const DEFAULT_TIME_FIELDS: readonly string[] = ['modifiedDate', 'routingStatus.startTime', 'timestamp', 'eventTime'];

/** The event's own time from the first of `fields` that holds one (ISO 8601, or epoch ms). */
export function eventTimeOf(body: Record<string, unknown>, fields: readonly string[]): number | undefined {
  for (const f of fields) {
    let v: unknown = body;
    for (const part of f.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
    const t = typeof v === 'string' ? Date.parse(v) : typeof v === 'number' ? v : Number.NaN;
    // Sanity: after 2000 and before 2200, so a sequence number or a duration is not taken for a time.
    if (Number.isFinite(t) && t > 946_684_800_000 && t < 7_258_118_400_000) return t;
  }
  return undefined;
}

const ID_SAFE = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Classifies one text frame. An event's dedupe id is `topicName + metadata.CorrelationId`, so the
 * same event on two sockets (a rollover's overlap, two active-active replicas) has one id; without
 * a usable CorrelationId it is the topic plus a SHA-256 of the raw frame, so that byte-identical
 * doubles still collapse.
 */
export function parseFrame(text: string, timeFields: readonly string[] = DEFAULT_TIME_FIELDS): Frame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'unknown' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'unknown' };
  const obj = value as Record<string, unknown>;
  const topic = obj.topicName;
  if (typeof topic !== 'string' || topic.length === 0) {
    return typeof obj.result === 'string' ? { kind: 'unknown', result: obj.result } : { kind: 'unknown' };
  }
  const body = obj.eventBody !== null && typeof obj.eventBody === 'object' && !Array.isArray(obj.eventBody)
    ? obj.eventBody as Record<string, unknown>
    : {};
  if (topic === 'channel.metadata') {
    if (body.message === 'pong') return { kind: 'pong' };
    return { kind: 'heartbeat' };
  }
  if (topic.startsWith('v2.system.')) return { kind: 'system', topic, body };
  const metadata = obj.metadata !== null && typeof obj.metadata === 'object' ? obj.metadata as Record<string, unknown> : {};
  const cid = metadata.CorrelationId;
  const correlationId = typeof cid === 'string' && ID_SAFE.test(cid) ? cid : undefined;
  const dedupeId = correlationId !== undefined
    ? `${topic}:${correlationId}`
    : `${topic}:sha256-${createHash('sha256').update(text).digest('hex')}`;
  const seq = body.sequence;
  const eventAt = eventTimeOf(body, timeFields);
  const conversation = conversationStateOf(topic, body);
  return {
    kind: 'event',
    topic,
    dedupeId,
    text,
    ...(correlationId === undefined ? {} : { correlationId }),
    ...(typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? { sequence: seq } : {}),
    ...(eventAt === undefined ? {} : { eventAt }),
    ...(conversation === undefined ? {} : { conversation }),
  };
}
