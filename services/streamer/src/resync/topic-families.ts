/**
 * Which subscribed topics a REST snapshot can bring up to date after a gap, and which need a
 * backfill by the consumer (docs/genesys-behaviour.md § Event bodies and snapshots).
 */

/** What one topic resyncs from. */
export type TopicFamily =
  | { kind: 'presence'; userId: string }
  | { kind: 'routingStatus'; userId: string }
  | { kind: 'queueConversations'; queueId: string }
  | { kind: 'queueObservations'; queueId: string }
  /** Known conversations can be fetched; new ones cannot be listed with a client-credentials token. */
  | { kind: 'userConversations'; userId: string }
  | { kind: 'none' };

const ID = '([A-Za-z0-9_-]{1,128})';
const PATTERNS: readonly [RegExp, (id: string) => TopicFamily][] = [
  [new RegExp(`^v2\\.users\\.${ID}\\.presence$`), (userId) => ({ kind: 'presence', userId })],
  [new RegExp(`^v2\\.users\\.${ID}\\.routingStatus$`), (userId) => ({ kind: 'routingStatus', userId })],
  [new RegExp(`^v2\\.users\\.${ID}\\.conversations$`), (userId) => ({ kind: 'userConversations', userId })],
  [new RegExp(`^v2\\.routing\\.queues\\.${ID}\\.conversations$`), (queueId) => ({ kind: 'queueConversations', queueId })],
  [new RegExp(`^v2\\.analytics\\.queues\\.${ID}\\.observations$`), (queueId) => ({ kind: 'queueObservations', queueId })],
];

/** The family of one plain topic. */
export function familyOf(topic: string): TopicFamily {
  for (const [re, make] of PATTERNS) {
    const m = re.exec(topic);
    if (m) return make(m[1]!);
  }
  return { kind: 'none' };
}

/**
 * The plain topics a subscription stands for: a combined topic `v2.users.<id>?presence&routingStatus`
 * delivers each suffix as its own topic.
 */
export function expandTopic(topic: string): string[] {
  const q = topic.indexOf('?');
  if (q < 0) return [topic];
  const base = topic.slice(0, q);
  return topic.slice(q + 1).split('&').filter(Boolean).map((suffix) => `${base}.${suffix}`);
}

/** A shard's topics sorted by what resyncs them. */
export interface ResyncPlan {
  presence: string[];
  routingStatus: string[];
  queueConversations: string[];
  queueObservations: string[];
  userConversations: string[];
  /** Topics that need a backfill: no snapshot at all, or (user conversations) not a complete one. */
  backfill: string[];
}

export function planResync(topics: readonly string[]): ResyncPlan {
  const plan: ResyncPlan = { presence: [], routingStatus: [], queueConversations: [], queueObservations: [], userConversations: [], backfill: [] };
  for (const topic of new Set(topics.flatMap(expandTopic))) {
    const f = familyOf(topic);
    switch (f.kind) {
      case 'presence': plan.presence.push(f.userId); break;
      case 'routingStatus': plan.routingStatus.push(f.userId); break;
      case 'queueConversations': plan.queueConversations.push(f.queueId); break;
      case 'queueObservations': plan.queueObservations.push(f.queueId); break;
      case 'userConversations':
        plan.userConversations.push(f.userId);
        plan.backfill.push(topic);
        break;
      default: plan.backfill.push(topic);
    }
  }
  return plan;
}

/**
 * Topics as patterns and the ids in them, for lifecycle events: segments after `v2` that hold a
 * digit or are long become `{id}` (several ids in one topic are joined by a space).
 */
export function backfillPatterns(topics: readonly string[], maxIds = 200): { topic: string; ids: string[] }[] {
  const byPattern = new Map<string, string[]>();
  for (const topic of topics) {
    const parts = topic.split('.');
    const ids: string[] = [];
    const pattern = parts.map((p, i) => {
      if (i === 0 || !(/\d/.test(p) || p.length > 24) || p.includes('?')) return p;
      ids.push(p);
      return '{id}';
    }).join('.');
    const list = byPattern.get(pattern) ?? [];
    if (ids.length > 0 && list.length < maxIds) list.push(ids.join(' '));
    byPattern.set(pattern, list);
  }
  return [...byPattern].slice(0, 50).map(([topic, ids]) => ({ topic, ids }));
}
