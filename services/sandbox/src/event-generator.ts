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
  const start = performance.now();
  let delivered = 0;
  const firstSequence = (state.sequences.get(req.topic) ?? 0) + 1;
  let sent = 0;
  for (let i = 0; i < req.count && !hub.closed; i++) {
    if (req.ratePerSecond !== undefined) {
      const wait = start + (i * 1000) / req.ratePerSecond - performance.now();
      if (wait > 1) await sleep(wait);
    } else if (i > 0 && i % 500 === 0) {
      // Let sockets drain and other requests run during a large burst.
      await sleep(0);
    }
    if (hub.closed) break;
    const sequence = (state.sequences.get(req.topic) ?? 0) + 1;
    state.sequences.set(req.topic, sequence);
    bump(state.counters.eventsGenerated, req.topic);
    sent += 1;
    const modelled = nextModelledBody(state.world, req.topic, state.options.now(), state.options.randomBytes);
    const frame = eventFrame(req.topic, { ...modelled, ...req.body, sequence }, newUuid(state.options.randomBytes));
    for (const channelId of hub.connectedChannelIds()) {
      if (req.channelId !== undefined && req.channelId !== channelId) continue;
      const channel = state.channels.get(channelId);
      if (!channel || ![...channel.topics].some((t) => expandTopic(t).includes(req.topic))) continue;
      hub.deliver(channelId, frame);
      delivered += 1;
    }
  }
  return { sent, delivered, firstSequence, lastSequence: firstSequence + sent - 1 };
}
