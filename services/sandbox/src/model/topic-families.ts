import type { RandomBytes } from '../ids.js';
import { advanceQueue, advanceUserConversation, conversationEventBody } from './conversations.js';
import { observationEventBody } from './observations.js';
import { advancePresence, presenceEventBody } from './presence.js';
import { advanceRoutingStatus, routingStatusEventBody } from './routing-status.js';
import { queueOf, userOf, type World } from './world.js';

/** A topic family the sandbox models: its topic pattern and the REST snapshot that answers for it. */
interface Family {
  name: string;
  pattern: RegExp;
  /** Changes the world for one event on the topic and returns the event body (without `sequence`). */
  advance(world: World, id: string, now: number, random: RandomBytes): Record<string, unknown>;
}

const FAMILIES: readonly Family[] = [
  {
    name: 'user presence',
    pattern: /^v2\.users\.([^.?]+)\.presence$/,
    advance(world, id, now) {
      const user = userOf(world, id, now);
      advancePresence(user, now);
      return presenceEventBody(user);
    },
  },
  {
    name: 'user routing status',
    pattern: /^v2\.users\.([^.?]+)\.routingStatus$/,
    advance(world, id, now) {
      const user = userOf(world, id, now);
      advanceRoutingStatus(user, now);
      return routingStatusEventBody(user);
    },
  },
  {
    name: 'user conversations',
    pattern: /^v2\.users\.([^.?]+)\.conversations$/,
    advance: (world, id, now, random) => conversationEventBody(advanceUserConversation(world, id, now, random)),
  },
  {
    name: 'queue conversations',
    pattern: /^v2\.routing\.queues\.([^.?]+)\.conversations$/,
    advance: (world, id, now, random) => conversationEventBody(advanceQueue(world, id, now, random)),
  },
  {
    name: 'queue observations',
    pattern: /^v2\.analytics\.queues\.([^.?]+)\.observations$/,
    // Observations follow the queue's traffic: one step of it, then the counts as they are now.
    advance(world, id, now, random) {
      queueOf(world, id);
      advanceQueue(world, id, now, random);
      return observationEventBody(world, id, now);
    },
  },
];

/**
 * The body of the next event on `topic` when the topic belongs to a modelled family (the world
 * changes accordingly), or undefined for any other topic (its events carry only what the caller
 * gives, plus `sequence`).
 */
export function nextModelledBody(world: World, topic: string, now: number, random: RandomBytes): Record<string, unknown> | undefined {
  for (const family of FAMILIES) {
    const m = family.pattern.exec(topic);
    if (m) return family.advance(world, m[1]!, now, random);
  }
  return undefined;
}

/** True when events on `topic` have a modelled body and state. */
export function isModelledTopic(topic: string): boolean {
  return FAMILIES.some((f) => f.pattern.test(topic));
}
