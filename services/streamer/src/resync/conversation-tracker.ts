/**
 * The conversations a shard's events showed in progress, per conversation topic. After a gap, the
 * observations query lists what is in progress now; a conversation that ended during the gap is no
 * longer in it, so the consumer would keep it open forever. These ids are fetched one by one too
 * (`GET /api/v2/conversations/{id}`: it answers ended conversations as well).
 */
export interface ConversationTracker {
  /** Notes a conversation event's state (read once from its body by parseFrame: conversationStateOf). */
  observe(topic: string, state: ConversationState): void;
  /** Conversations of `topic` last seen in progress. */
  live(topic: string): string[];
  /** The resync fetched it: ended ones are forgotten. */
  settle(topic: string, conversationId: string, ended: boolean): void;
}

export const isConversationTopic = (topic: string): boolean => topic.endsWith('.conversations') && topic.startsWith('v2.');

/** What the tracker needs of a conversation event: its id, and whether every participant has ended. */
export interface ConversationState {
  id: string;
  ended: boolean;
}

/**
 * A conversation event's state from its already parsed `eventBody` (`id`, every participant's
 * `endTime`), or undefined for another topic or shape. Read in parseFrame, which parses the frame
 * anyway: parsing it a second time here was 16 % of the streamer's CPU at 16,000 events/s on a
 * conversation topic (bench stream-rate profile).
 */
export function conversationStateOf(topic: string, body: Record<string, unknown>): ConversationState | undefined {
  if (!isConversationTopic(topic) || typeof body.id !== 'string' || !Array.isArray(body.participants)) return undefined;
  const participants = body.participants as unknown[];
  const ended = participants.length > 0 && participants.every((p) => p !== null && typeof p === 'object' && typeof (p as { endTime?: unknown }).endTime === 'string');
  return { id: body.id, ended };
}

/**
 * `maxPerTopic` bounds memory: the oldest in-progress id is forgotten first. Ended ids are remembered
 * too (as many): Genesys does not promise order, and an earlier in-progress event of a conversation
 * delivered after its end must not bring it back (the sandbox's `reorder` fault did, and every
 * resync then fetched dozens of long-ended conversations).
 */
export function createConversationTracker(maxPerTopic: number): ConversationTracker {
  const byTopic = new Map<string, Set<string>>();
  const endedByTopic = new Map<string, Set<string>>();
  return {
    observe(topic, state) {
      if (!state.ended && endedByTopic.get(topic)?.has(state.id)) return;
      this.settle(topic, state.id, state.ended);
    },
    live: (topic) => [...(byTopic.get(topic) ?? [])],
    settle(topic, id, ended) {
      let set = byTopic.get(topic);
      if (ended) {
        set?.delete(id);
        let done = endedByTopic.get(topic);
        if (!done) endedByTopic.set(topic, (done = new Set()));
        done.add(id);
        if (done.size > maxPerTopic) done.delete(done.values().next().value!);
        return;
      }
      if (!set) byTopic.set(topic, (set = new Set()));
      set.delete(id); // re-inserted: the newest last
      set.add(id);
      if (set.size > maxPerTopic) set.delete(set.values().next().value!);
    },
  };
}
