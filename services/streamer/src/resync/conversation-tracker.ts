/**
 * The conversations a shard's events showed in progress, per conversation topic. After a gap, the
 * observations query lists what is in progress now; a conversation that ended during the gap is no
 * longer in it, so the consumer would keep it open forever. These ids are fetched one by one too
 * (`GET /api/v2/conversations/{id}`: it answers ended conversations as well).
 */
export interface ConversationTracker {
  /** Reads a conversation event's body (`id`, every participant's `endTime`). */
  observe(topic: string, text: string): void;
  /** Conversations of `topic` last seen in progress. */
  live(topic: string): string[];
  /** The resync fetched it: ended ones are forgotten. */
  settle(topic: string, conversationId: string, ended: boolean): void;
}

export const isConversationTopic = (topic: string): boolean => topic.endsWith('.conversations') && topic.startsWith('v2.');

/** `maxPerTopic` bounds memory: the oldest in-progress id is forgotten first. */
export function createConversationTracker(maxPerTopic: number): ConversationTracker {
  const byTopic = new Map<string, Set<string>>();
  return {
    observe(topic, text) {
      if (!isConversationTopic(topic)) return;
      let body: { id?: unknown; participants?: unknown } | undefined;
      try {
        body = (JSON.parse(text) as { eventBody?: typeof body }).eventBody;
      } catch {
        return;
      }
      if (typeof body?.id !== 'string' || !Array.isArray(body.participants)) return;
      const ended = body.participants.length > 0 && body.participants.every((p) => p !== null && typeof p === 'object' && typeof (p as { endTime?: unknown }).endTime === 'string');
      this.settle(topic, body.id, ended);
    },
    live: (topic) => [...(byTopic.get(topic) ?? [])],
    settle(topic, id, ended) {
      let set = byTopic.get(topic);
      if (ended) {
        set?.delete(id);
        return;
      }
      if (!set) byTopic.set(topic, (set = new Set()));
      set.delete(id); // re-inserted: the newest last
      set.add(id);
      if (set.size > maxPerTopic) set.delete(set.values().next().value!);
    },
  };
}
