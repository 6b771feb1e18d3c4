/**
 * The state behind the generated events: users' presence and routing status, conversations on
 * queues and with users. Events change it; the REST snapshot routes read it, so a snapshot taken
 * after an event reflects that event.
 */

/** A Genesys system presence (`PresenceDefinition.systemPresence`). */
export type SystemPresence = 'AVAILABLE' | 'AWAY' | 'BUSY' | 'BREAK' | 'MEAL' | 'MEETING' | 'TRAINING' | 'ON_QUEUE' | 'IDLE' | 'OFFLINE';

/** A Genesys routing status (`RoutingStatus.status`). */
export type RoutingStatusValue = 'OFF_QUEUE' | 'IDLE' | 'INTERACTING' | 'NOT_RESPONDING' | 'COMMUNICATING';

export interface UserModel {
  id: string;
  presence: { systemPresence: SystemPresence; message: string; modifiedAt: number; step: number };
  routing: { status: RoutingStatusValue; startAt: number; step: number };
  /** The user's current conversation (`v2.users.{id}.conversations`), if any. */
  conversationId: string | undefined;
  conversationStep: number;
}

/** One call leg of a participant. */
export interface CallModel {
  id: string;
  state: 'alerting' | 'connected' | 'disconnected';
  connectedAt: number | undefined;
  disconnectedAt: number | undefined;
}

export interface ParticipantModel {
  id: string;
  purpose: 'customer' | 'acd' | 'agent';
  name: string;
  address: string;
  userId?: string;
  queueId?: string;
  startAt: number;
  connectedAt: number | undefined;
  endAt: number | undefined;
  call: CallModel;
}

export interface ConversationModel {
  id: string;
  /** The queue it waits or waited in, for queue conversations. */
  queueId: string | undefined;
  /** `waiting` in queue, `interacting` with an agent, `alerting` an agent (user conversations), `ended`. */
  phase: 'waiting' | 'alerting' | 'interacting' | 'ended';
  startAt: number;
  endAt: number | undefined;
  participants: ParticipantModel[];
}

export interface QueueModel {
  id: string;
  /** Conversations in progress on the queue, oldest first. */
  live: string[];
  step: number;
}

export interface World {
  users: Map<string, UserModel>;
  queues: Map<string, QueueModel>;
  /** Every conversation still remembered, live or ended (ended ones beyond `MAX_ENDED` are forgotten, oldest first). */
  conversations: Map<string, ConversationModel>;
  ended: string[];
}

/** Ended conversations kept for `GET /conversations/{id}`; bounds memory under a long event soak. */
export const MAX_ENDED = 10_000;

export function createWorld(): World {
  return { users: new Map(), queues: new Map(), conversations: new Map(), ended: [] };
}

/** Empties the world in place (`reset()`). */
export function clearWorld(world: World): void {
  world.users.clear();
  world.queues.clear();
  world.conversations.clear();
  world.ended.length = 0;
}

/** The user with this id; any id exists, first seen offline and off queue at `now`. */
export function userOf(world: World, id: string, now: number): UserModel {
  let user = world.users.get(id);
  if (!user) {
    user = {
      id,
      presence: { systemPresence: 'OFFLINE', message: '', modifiedAt: now, step: 0 },
      routing: { status: 'OFF_QUEUE', startAt: now, step: 0 },
      conversationId: undefined,
      conversationStep: 0,
    };
    world.users.set(id, user);
  }
  return user;
}

/** The queue with this id; any id exists, first seen empty. */
export function queueOf(world: World, id: string): QueueModel {
  let queue = world.queues.get(id);
  if (!queue) {
    queue = { id, live: [], step: 0 };
    world.queues.set(id, queue);
  }
  return queue;
}

/** Marks a conversation ended and forgets the oldest ended ones past the cap. */
export function endConversation(world: World, conversation: ConversationModel, now: number): void {
  conversation.phase = 'ended';
  conversation.endAt = now;
  for (const p of conversation.participants) {
    p.endAt ??= now;
    if (p.call.state !== 'disconnected') {
      p.call.state = 'disconnected';
      p.call.disconnectedAt = now;
    }
  }
  world.ended.push(conversation.id);
  while (world.ended.length > MAX_ENDED) world.conversations.delete(world.ended.shift()!);
}
