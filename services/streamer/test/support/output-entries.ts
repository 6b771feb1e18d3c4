import type { RedisClient } from '@gtb/redis';

/** An output entry with every field, and its `event` parsed (gap and resync entries included). */
export interface RawEntry { streamId: string; fields: Record<string, string>; event: Record<string, unknown> }

export async function readRawOutput(redis: RedisClient, prefix: string, stream: string): Promise<RawEntry[]> {
  const entries = await redis.xrange(`${prefix}:events:{${stream}}`, '-', '+');
  return entries.map(([streamId, f]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < f.length; i += 2) fields[f[i]!] = f[i + 1]!;
    return { streamId, fields, event: JSON.parse(fields.event ?? '{}') as Record<string, unknown> };
  });
}

type Body = Record<string, unknown>;

/**
 * What a consumer with no code for gaps knows after applying every entry in order, by topic (and
 * by conversation id on conversation topics): the last `eventBody`, whether from an event or a
 * `stream.resync` snapshot. Gap entries (`topic` stream.gap) are skipped like any unknown topic.
 */
export function consumerState(entries: RawEntry[]): Map<string, Body> {
  const state = new Map<string, Body>();
  for (const e of entries) {
    const topic = e.fields.topic ?? '';
    if (!topic.startsWith('v2.')) continue;
    const body = (e.event.eventBody ?? {}) as Body;
    const key = topic.endsWith('.conversations') ? `${topic}#${String(body.id)}` : topic;
    state.set(key, body);
  }
  return state;
}

/** Conversation ids a consumer's state holds in progress on `topic` (some participant without `endTime`). */
export function liveConversations(state: Map<string, Body>, topic: string): string[] {
  return [...state].filter(([k, b]) => k.startsWith(`${topic}#`)
    && !((b.participants as { endTime?: string }[] | undefined) ?? []).every((p) => typeof p.endTime === 'string')).map(([, b]) => String(b.id)).sort();
}

/** The sandbox's state over REST, in the event body shapes the streamer writes, for comparison. */
export async function sandboxSnapshot(baseUrl: string, token: string, what: { presence?: string[]; routing?: string[]; queues?: string[] }) {
  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    return res.json() as Promise<Body & Body[]>;
  };
  const presence = new Map<string, { systemPresence: string; modifiedDate: string }>();
  for (const id of what.presence ?? []) {
    const p = await get(`/api/v2/users/${id}/presences/purecloud`);
    presence.set(id, { systemPresence: String((p.presenceDefinition as Body).systemPresence), modifiedDate: String(p.modifiedDate) });
  }
  const routing = new Map<string, { status: string; startTime: string }>();
  for (const id of what.routing ?? []) {
    const r = await get(`/api/v2/users/${id}/routingstatus`);
    routing.set(id, { status: String(r.status), startTime: String(r.startTime) });
  }
  const queues = new Map<string, { counts: Record<string, number>; inProgress: string[] }>();
  if (what.queues?.length) {
    const answer = await get('/api/v2/analytics/queues/observations/query', {
      method: 'POST',
      body: JSON.stringify({ filter: { type: 'or', predicates: what.queues.map((value) => ({ dimension: 'queueId', value })) }, metrics: ['oWaiting', 'oInteracting'], detailMetrics: ['oWaiting', 'oInteracting'] }),
    });
    for (const r of answer.results as { group: { queueId: string }; data: { metric: string; stats: { count: number }; observations?: { conversationId: string }[] }[] }[]) {
      queues.set(r.group.queueId, {
        counts: Object.fromEntries(r.data.map((d) => [d.metric, d.stats.count])),
        inProgress: r.data.flatMap((d) => (d.observations ?? []).map((o) => o.conversationId)).sort(),
      });
    }
  }
  return { presence, routing, queues };
}
