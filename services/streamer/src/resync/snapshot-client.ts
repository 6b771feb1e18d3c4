import { isGtbError } from '@gtb/errors';
import { mapApiError, type GenesysApi } from '@gtb/genesys';
import { sleep } from '../backoff.js';
import type { RateGate } from './rate-gate.js';

/**
 * The REST snapshots a resync reads, each turned into the `eventBody` shape of the topic it stands
 * for, so that a consumer applies it like an event (the SDK models named in
 * docs/genesys-behaviour.md § Event bodies and snapshots).
 */
export interface SnapshotClient {
  /** `GET /api/v2/users/presences/purecloud/bulk` (≤ 50 ids a call) → userId → `PresenceEventUserPresence` shape. */
  presences(userIds: readonly string[]): Promise<Map<string, Record<string, unknown>>>;
  /** `GET /api/v2/users/{id}/routingstatus` → `UserRoutingStatusUserRoutingStatus` shape. */
  routingStatus(userId: string): Promise<Record<string, unknown>>;
  /**
   * `POST /api/v2/analytics/queues/observations/query` (≤ 100 queues a call) with `detailMetrics`:
   * queueId → the observation event body and the conversation ids in progress.
   */
  observations(queueIds: readonly string[]): Promise<Map<string, { body: Record<string, unknown>; conversationIds: string[] }>>;
  /** `GET /api/v2/conversations/{id}` → the conversation event body shape; undefined when Genesys no longer has it (404). */
  conversation(conversationId: string): Promise<Record<string, unknown> | undefined>;
}

export const BULK_PRESENCE_IDS = 50;
export const OBSERVATION_QUEUES = 100;
const METRICS = ['oWaiting', 'oInteracting'] as const;

export interface SnapshotClientOptions {
  api: () => { api: GenesysApi; token: string };
  gate: RateGate;
  attempts: number;
  now: () => number;
  signal: AbortSignal;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Json : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** JSON without the `undefined` members, as the API leaves absent fields out. */
function compact(o: Json): Json {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

const isUnauthorized = (err: unknown) => isGtbError(err) && err.code === 'ERR_UPSTREAM_REJECTED'
  && err.details?.upstreamStatus === 401;

/** How long a snapshot call that met a 401 waits for the worker's replacement token. */
export const TOKEN_REPLACEMENT_WAIT_MS = 15_000;

export function createSnapshotClient(options: SnapshotClientOptions): SnapshotClient {
  const { gate, attempts, now, signal } = options;

  /** True once the leased token differs from `used` (polled; false after TOKEN_REPLACEMENT_WAIT_MS). */
  async function tokenReplaced(used: string | undefined, abort: AbortSignal): Promise<boolean> {
    const deadline = now() + TOKEN_REPLACEMENT_WAIT_MS;
    while (!abort.aborted && now() < deadline) {
      try {
        if (options.api().token !== used) return true;
      } catch { /* no token leased at the moment */ }
      await sleep(100, abort).catch(() => undefined);
    }
    return false;
  }

  /** One call through the gate; 429 pauses everyone for its Retry-After, 5xx and network errors retry. */
  async function call(method: string, path: string, body?: unknown, allow404 = false): Promise<unknown> {
    let used: string | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        return await gate.run(async () => {
          const { api, token } = options.api();
          used = token;
          const res = await api.request(token, method, path, body);
          if (res.status === 404 && allow404) return undefined;
          if (res.status !== 200) throw mapApiError(res, now(), `${method} ${path.split('?')[0]}`);
          return JSON.parse(res.text) as unknown;
        }, signal);
      } catch (err) {
        // 401: the token was revoked (the worker is replacing it: the socket heard token_revoked).
        // Calls read the current token each time, so wait for the replacement and try again.
        if (isUnauthorized(err) && attempt < attempts && await tokenReplaced(used, signal)) continue;
        const retryable = !isGtbError(err) || err.code === 'ERR_UPSTREAM_THROTTLED' || err.code === 'ERR_UPSTREAM_UNAVAILABLE';
        if (isGtbError(err) && err.code === 'ERR_UPSTREAM_THROTTLED') gate.pause((err.retryAfter ?? 3) * 1000);
        if (!retryable || attempt >= attempts || signal.aborted) throw err;
        await sleep(Math.min(5_000, 250 * 2 ** attempt), signal);
      }
    }
  }

  return {
    async presences(userIds) {
      const out = new Map<string, Json>();
      for (let i = 0; i < userIds.length; i += BULK_PRESENCE_IDS) {
        const ids = userIds.slice(i, i + BULK_PRESENCE_IDS);
        const answer = await call('GET', `/api/v2/users/presences/purecloud/bulk?${ids.map((id) => `id=${encodeURIComponent(id)}`).join('&')}`);
        for (const p of Array.isArray(answer) ? answer : []) {
          const v = obj(p);
          const userId = str(v.userId);
          if (!userId) continue;
          const def = obj(v.presenceDefinition);
          out.set(userId, compact({
            source: str(v.source),
            presenceDefinition: compact({ id: str(def.id), systemPresence: str(def.systemPresence) }),
            primary: typeof v.primary === 'boolean' ? v.primary : undefined,
            message: str(v.message),
            modifiedDate: str(v.modifiedDate),
          }));
        }
      }
      return out;
    },
    async routingStatus(userId) {
      const v = obj(await call('GET', `/api/v2/users/${encodeURIComponent(userId)}/routingstatus`));
      return { id: str(v.userId) ?? userId, routingStatus: compact({ status: str(v.status), startTime: str(v.startTime) }) };
    },
    async observations(queueIds) {
      const out = new Map<string, { body: Json; conversationIds: string[] }>();
      for (let i = 0; i < queueIds.length; i += OBSERVATION_QUEUES) {
        const ids = queueIds.slice(i, i + OBSERVATION_QUEUES);
        const answer = obj(await call('POST', '/api/v2/analytics/queues/observations/query', {
          filter: { type: 'or', predicates: ids.map((value) => ({ dimension: 'queueId', value })) },
          metrics: METRICS, detailMetrics: METRICS,
        }));
        const at = new Date(now()).toISOString();
        for (const r of Array.isArray(answer.results) ? answer.results : []) {
          const result = obj(r);
          const group = obj(result.group);
          const queueId = str(group.queueId);
          if (!queueId) continue;
          const data = (Array.isArray(result.data) ? result.data : []).map(obj);
          const conversationIds = data.flatMap((d) => (Array.isArray(d.observations) ? d.observations : []).map((o) => str(obj(o).conversationId)))
            .filter((id): id is string => id !== undefined);
          out.set(queueId, {
            // The observation event's shape: one instant, the metrics' counts.
            body: { group, data: [{ interval: `${at}/${at}`, metrics: data.map((d) => ({ metric: str(d.metric), stats: obj(d.stats) })) }] },
            conversationIds: [...new Set(conversationIds)],
          });
        }
      }
      return out;
    },
    async conversation(conversationId) {
      const answer = await call('GET', `/api/v2/conversations/${encodeURIComponent(conversationId)}`, undefined, true);
      return answer === undefined ? undefined : conversationEventBody(obj(answer));
    },
  };
}

/** `Conversation` (REST) → the conversation event body (`…EventTopicConversation`): the fields both carry. */
export function conversationEventBody(c: Json): Json {
  const participants = (Array.isArray(c.participants) ? c.participants : []).map(obj).map((p) => compact({
    id: str(p.id),
    connectedTime: str(p.connectedTime),
    endTime: str(p.endTime),
    userId: str(p.userId),
    name: str(p.name),
    queueId: str(p.queueId),
    purpose: str(p.purpose),
    address: str(p.address),
    wrapupRequired: typeof p.wrapupRequired === 'boolean' ? p.wrapupRequired : undefined,
    mediaRoles: Array.isArray(p.mediaRoles) ? p.mediaRoles : undefined,
    attributes: p.attributes === undefined ? undefined : obj(p.attributes),
    calls: Array.isArray(p.calls) ? p.calls.map(obj).map((call) => compact({
      id: str(call.id), state: str(call.state), recording: call.recording, recordingState: str(call.recordingState), muted: call.muted,
      confined: call.confined, held: call.held, direction: str(call.direction), self: call.self, other: call.other, provider: str(call.provider),
      connectedTime: str(call.connectedTime), disconnectedTime: str(call.disconnectedTime),
    })) : undefined,
  }));
  const divisions = (Array.isArray(c.divisions) ? c.divisions : []).map(obj).map((d) => ({
    division: compact({ id: str(obj(d.division).id), selfUri: str(obj(d.division).selfUri) }),
    entities: (Array.isArray(d.entities) ? d.entities : []).map((e) => compact({ id: str(obj(e).id) })),
  }));
  return compact({ id: str(c.id), participants, recordingState: str(c.recordingState), divisions });
}
