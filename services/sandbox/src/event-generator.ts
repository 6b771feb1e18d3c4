import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GtbError } from '@gtb/errors';
import { bump } from './counters.js';
import { newUuid } from './ids.js';
import type { SandboxState } from './state.js';
import type { SocketHub } from './streaming/socket-hub.js';
import { eventFrame } from './streaming/frames.js';
import { nextModelledBody } from './model/topic-families.js';
import { expandTopic, isValidTopic } from './topics.js';

/** What to generate. */
export interface GenerateEventsRequest {
  topic: string;
  count: number;
  /** Events per second; as fast as possible when omitted. */
  ratePerSecond?: number;
  /** Only this channel receives them (it must still subscribe the topic). */
  channelId?: string;
  /**
   * Extra fields merged over each `eventBody` (beside `sequence`). On a modelled topic they
   * override the generated fields in the event only: the state behind the snapshots keeps the
   * generated values.
   */
  body?: Record<string, unknown>;
  /**
   * A benchmark's fast path (the streamer's rate benchmark needs more events a second than the
   * model makes on one core): `distinctBodies` bodies are made by the model (and serialized) before
   * the first event is sent, and the events repeat them in turn, each with its own sequence and a
   * fresh CorrelationId put into the serialized frame (the same text `JSON.stringify` gives). The
   * state behind the snapshots advances only for those bodies.
   */
  distinctBodies?: number;
}

/** `sent`: events generated (one sequence number each); `delivered`: frames written to sockets before faults' duplicates. */
export interface GenerateEventsResult {
  sent: number;
  delivered: number;
  firstSequence: number;
  lastSequence: number;
}

const MAX_COUNT = 1_000_000;

/** Throws ERR_VALIDATION unless the request is well formed. */
export function validateGenerateRequest(req: unknown): asserts req is GenerateEventsRequest {
  const bad = (why: string): never => {
    throw new GtbError('ERR_VALIDATION', `invalid event request: ${why}`);
  };
  if (req === null || typeof req !== 'object') bad('expected an object');
  const r = req as Record<string, unknown>;
  if (!isValidTopic(r.topic) || (r.topic as string).includes('?')) bad('topic must be a plain v2.* topic');
  if (!Number.isInteger(r.count) || (r.count as number) < 1 || (r.count as number) > MAX_COUNT) bad(`count must be an integer in 1..${MAX_COUNT}`);
  if (r.ratePerSecond !== undefined && !(typeof r.ratePerSecond === 'number' && r.ratePerSecond > 0 && r.ratePerSecond <= 100_000)) bad('ratePerSecond must be in (0, 100000]');
  if (r.channelId !== undefined && typeof r.channelId !== 'string') bad('channelId must be a string');
  if (r.body !== undefined && (r.body === null || typeof r.body !== 'object' || Array.isArray(r.body))) bad('body must be an object');
  if (r.distinctBodies !== undefined && !(Number.isInteger(r.distinctBodies) && (r.distinctBodies as number) >= 1 && (r.distinctBodies as number) <= MAX_DISTINCT)) {
    bad(`distinctBodies must be an integer in 1..${MAX_DISTINCT}`);
  }
}

const MAX_DISTINCT = 100_000;

/** A frame serialized once, split where the sequence and the CorrelationId go. */
interface FrameTemplate { beforeSequence: string; beforeCorrelationId: string; after: string }

/**
 * Serializes an event frame with markers for the sequence and the CorrelationId and splits the text
 * there; undefined (the caller serializes each event) if a marker is not found exactly once.
 */
function frameTemplate(topic: string, body: Record<string, unknown>): FrameTemplate | undefined {
  const nonce = randomUUID();
  // Random markers (a control character, which JSON escapes, and a UUID); found other than exactly
  // once (a body holding the same text), the template is not used.
  const seqMark = `\u0001sequence-${nonce}`;
  const cidMark = `\u0001correlation-${nonce}`;
  const text = JSON.stringify(eventFrame(topic, { ...body, sequence: seqMark }, cidMark));
  const [beforeSequence, rest, ...more] = text.split(JSON.stringify(seqMark));
  if (beforeSequence === undefined || rest === undefined || more.length > 0) return undefined;
  const [beforeCorrelationId, after, ...more2] = rest.split(JSON.stringify(cidMark));
  if (beforeCorrelationId === undefined || after === undefined || more2.length > 0) return undefined;
  return { beforeSequence, beforeCorrelationId, after };
}

/** The channels with a socket that receive events on `req.topic` (and only `req.channelId` when given). */
function recipientsOf(state: SandboxState, hub: SocketHub, req: GenerateEventsRequest): string[] {
  return hub.connectedChannelIds().filter((channelId) => {
    if (req.channelId !== undefined && req.channelId !== channelId) return false;
    const channel = state.channels.get(channelId);
    return channel !== undefined && [...channel.topics].some((t) => expandTopic(t).includes(req.topic));
  });
}

/**
 * Generates `count` events on a topic, each with the topic's next `eventBody.sequence` and a
 * fresh `metadata.CorrelationId`, and writes each to every connected socket whose channel
 * subscribes the topic. Sockets that are down miss them: Genesys queues nothing. On a modelled
 * topic (user presence, routing status and conversations, queue conversations and observations)
 * each event first changes the state behind the REST snapshots, and its body is that change in
 * the SDK model's shape.
 */
export async function generateEvents(state: SandboxState, hub: SocketHub, req: GenerateEventsRequest): Promise<GenerateEventsResult> {
  validateGenerateRequest(req);
  const modelBody = () => ({ ...nextModelledBody(state.world, req.topic, state.options.now(), state.options.randomBytes), ...req.body });
  // The fast path's bodies and frames are made before the first event is sent (and before pacing starts).
  const repeated = req.distinctBodies === undefined ? undefined : Array.from({ length: Math.min(req.distinctBodies, req.count) }, () => {
    const body = modelBody();
    return { body, template: frameTemplate(req.topic, body) };
  });
  const start = performance.now();
  let delivered = 0;
  const firstSequence = (state.sequences.get(req.topic) ?? 0) + 1;
  let sent = 0;
  // Sockets connect, close and change subscriptions only between turns of the event loop: the
  // recipients are looked up once per synchronous run of events.
  let recipients: string[] | undefined;
  for (let i = 0; i < req.count && !hub.closed; i++) {
    const wait = req.ratePerSecond === undefined ? 0 : start + (i * 1000) / req.ratePerSecond - performance.now();
    if (wait > 1) {
      await sleep(wait);
      recipients = undefined;
    } else if (i > 0 && i % 500 === 0) {
      // Let sockets drain and other requests run during a large burst (or while behind the rate).
      await sleep(0);
      recipients = undefined;
    }
    if (hub.closed) break;
    const sequence = (state.sequences.get(req.topic) ?? 0) + 1;
    state.sequences.set(req.topic, sequence);
    bump(state.counters.eventsGenerated, req.topic);
    sent += 1;
    const correlationId = newUuid(state.options.randomBytes);
    let text: string;
    if (repeated) {
      const { body, template: t } = repeated[i % repeated.length]!;
      // A UUID needs no escaping in JSON.
      text = t ? `${t.beforeSequence}${sequence}${t.beforeCorrelationId}"${correlationId}"${t.after}` : JSON.stringify(eventFrame(req.topic, { ...body, sequence }, correlationId));
    } else {
      text = JSON.stringify(eventFrame(req.topic, { ...modelBody(), sequence }, correlationId));
    }
    recipients ??= recipientsOf(state, hub, req);
    for (const channelId of recipients) {
      hub.deliver(channelId, req.topic, text);
      delivered += 1;
    }
  }
  return { sent, delivered, firstSequence, lastSequence: firstSequence + sent - 1 };
}
