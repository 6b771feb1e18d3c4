import type { RandomBytes } from '../ids.js';
import { newUuid } from '../ids.js';
import { endConversation, queueOf, userOf, type ConversationModel, type ParticipantModel, type World } from './world.js';

/** The division every sandbox object belongs to (Genesys' default is called "Home"). */
export const HOME_DIVISION = { id: '7c1d3e5f-2a4b-4c6d-8e0f-1a2b3c4d5e6f', name: 'Home' } as const;

// A queue holds at most this many conversations at once, so that a long run stays small.
const MAX_LIVE_PER_QUEUE = 4;

function participant(random: RandomBytes, purpose: ParticipantModel['purpose'], now: number, extra: Partial<ParticipantModel>): ParticipantModel {
  const state = purpose === 'agent' ? 'alerting' : 'connected';
  return {
    id: newUuid(random),
    purpose,
    name: purpose === 'customer' ? 'Customer' : purpose === 'acd' ? 'Queue' : 'Agent',
    address: purpose === 'customer' ? 'tel:+13175550100' : 'tel:+13175550199',
    startAt: now,
    connectedAt: state === 'connected' ? now : undefined,
    endAt: undefined,
    call: { id: newUuid(random), state, connectedAt: state === 'connected' ? now : undefined, disconnectedAt: undefined },
    ...extra,
  };
}

function connect(p: ParticipantModel, now: number): void {
  p.connectedAt = now;
  p.call.state = 'connected';
  p.call.connectedAt = now;
}

function disconnect(p: ParticipantModel, now: number): void {
  p.endAt = now;
  p.call.state = 'disconnected';
  p.call.disconnectedAt = now;
}

/**
 * One step of a queue's traffic: a call arrives (customer + acd participants, waiting), the
 * oldest waiting one is answered (acd leg ends, an agent connects), or the oldest interacting one
 * ends. Deterministic in the queue's step count. Returns the conversation that changed.
 */
export function advanceQueue(world: World, queueId: string, now: number, random: RandomBytes): ConversationModel {
  const queue = queueOf(world, queueId);
  queue.step += 1;
  const live = queue.live.map((id) => world.conversations.get(id)!);
  const waiting = live.filter((c) => c.phase === 'waiting');
  const interacting = live.filter((c) => c.phase === 'interacting');
  const phase = queue.step % 4;
  if ((phase === 1 || phase === 2 || live.length === 0) && live.length < MAX_LIVE_PER_QUEUE) {
    const conversation: ConversationModel = {
      id: newUuid(random),
      queueId,
      phase: 'waiting',
      startAt: now,
      endAt: undefined,
      participants: [participant(random, 'customer', now, {}), participant(random, 'acd', now, { queueId })],
    };
    world.conversations.set(conversation.id, conversation);
    queue.live.push(conversation.id);
    return conversation;
  }
  if (waiting.length > 0 && (phase === 3 || interacting.length === 0)) {
    const conversation = waiting[0]!;
    disconnect(conversation.participants.find((p) => p.purpose === 'acd')!, now);
    const agent = participant(random, 'agent', now, { queueId, userId: newUuid(random) });
    connect(agent, now);
    conversation.participants.push(agent);
    conversation.phase = 'interacting';
    return conversation;
  }
  const conversation = interacting[0]!;
  endConversation(world, conversation, now);
  queue.live = queue.live.filter((id) => id !== conversation.id);
  return conversation;
}

/**
 * One step of a user's conversations: a call alerts the user, the user answers, the call ends;
 * then the next one. Returns the conversation that changed.
 */
export function advanceUserConversation(world: World, userId: string, now: number, random: RandomBytes): ConversationModel {
  const user = userOf(world, userId, now);
  user.conversationStep += 1;
  const current = user.conversationId === undefined ? undefined : world.conversations.get(user.conversationId);
  if (!current || current.phase === 'ended') {
    const conversation: ConversationModel = {
      id: newUuid(random),
      queueId: undefined,
      phase: 'alerting',
      startAt: now,
      endAt: undefined,
      participants: [participant(random, 'customer', now, {}), participant(random, 'agent', now, { userId })],
    };
    world.conversations.set(conversation.id, conversation);
    user.conversationId = conversation.id;
    return conversation;
  }
  if (current.phase === 'alerting') {
    connect(current.participants.find((p) => p.purpose === 'agent')!, now);
    current.phase = 'interacting';
    return current;
  }
  endConversation(world, current, now);
  return current;
}

const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

/** JSON without the `undefined` members, as the API leaves absent fields out. */
function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function eventCall(p: ParticipantModel): Record<string, unknown> {
  return compact({
    id: p.call.id,
    state: p.call.state,
    initialState: p.purpose === 'agent' ? 'alerting' : 'connected',
    recording: false,
    recordingState: 'none',
    muted: false,
    confined: false,
    held: false,
    direction: 'inbound',
    self: { addressNormalized: p.address },
    other: { addressNormalized: 'tel:+13175550100' },
    provider: 'Edge',
    connectedTime: iso(p.call.connectedAt),
    disconnectedTime: iso(p.call.disconnectedAt),
    disconnectType: p.call.state === 'disconnected' ? 'peer' : undefined,
  });
}

function eventParticipant(p: ParticipantModel): Record<string, unknown> {
  return compact({
    id: p.id,
    connectedTime: iso(p.connectedAt),
    endTime: iso(p.endAt),
    userId: p.userId,
    name: p.name,
    queueId: p.queueId,
    purpose: p.purpose,
    address: p.address,
    wrapupRequired: p.purpose === 'agent',
    conversationRoutingData: p.queueId === undefined ? undefined : { queue: { id: p.queueId }, priority: 0, skills: [], scoredAgents: [] },
    mediaRoles: ['full'],
    attributes: {},
    calls: [eventCall(p)],
  });
}

function divisions(c: ConversationModel): Record<string, unknown>[] {
  return [{ division: { id: HOME_DIVISION.id, selfUri: `/api/v2/authorization/divisions/${HOME_DIVISION.id}` }, entities: c.queueId === undefined ? [] : [{ id: c.queueId }] }];
}

/**
 * `eventBody` of `v2.routing.queues.{id}.conversations` and `v2.users.{id}.conversations`: the
 * SDK's `QueueConversationEventTopicConversation` / `ConversationEventTopicConversation` (the same
 * fields). These carry no top-level event time; participants' `connectedTime`/`endTime` do.
 */
export function conversationEventBody(c: ConversationModel): Record<string, unknown> {
  return { id: c.id, participants: c.participants.map(eventParticipant), recordingState: 'none', divisions: divisions(c) };
}

/** `GET /api/v2/conversations/{conversationId}`: the SDK's `Conversation`. */
export function conversationView(c: ConversationModel): Record<string, unknown> {
  return compact({
    id: c.id,
    startTime: new Date(c.startAt).toISOString(),
    endTime: iso(c.endAt),
    participants: c.participants.map((p) => compact({
      id: p.id,
      startTime: new Date(p.startAt).toISOString(),
      endTime: iso(p.endAt),
      connectedTime: iso(p.connectedAt),
      name: p.name,
      userId: p.userId,
      queueId: p.queueId,
      purpose: p.purpose,
      participantType: p.purpose === 'customer' ? 'External' : 'Internal',
      address: p.address,
      wrapupRequired: p.purpose === 'agent',
      mediaRoles: ['full'],
      attributes: {},
      calls: [compact({
        state: p.call.state,
        id: p.call.id,
        direction: 'inbound',
        recording: false,
        recordingState: 'none',
        muted: false,
        confined: false,
        held: false,
        connectedTime: iso(p.call.connectedAt),
        disconnectedTime: iso(p.call.disconnectedAt),
        provider: 'Edge',
        self: { addressNormalized: p.address },
        other: { addressNormalized: 'tel:+13175550100' },
      })],
    })),
    recordingState: 'none',
    divisions: divisions(c).map((d) => ({ ...d, entities: (d.entities as { id: string }[]).map((e) => ({ ...e, selfUri: `/api/v2/routing/queues/${e.id}` })) })),
    selfUri: `/api/v2/conversations/${c.id}`,
  });
}
