import { GtbError } from '@gtb/errors';
import { mapApiError, type GenesysApi } from '@gtb/genesys';
import { fingerprint } from '@gtb/logger';

/** A notification channel as `POST /api/v2/notifications/channels` returns it. */
export interface Channel {
  /**
   * Also a capability: the connectUri is built from it, and whoever knows it can open the socket
   * while the channel lives (up to 24 h). Used only in calls to Genesys; everything that leaves
   * the process (logs, /readyz, lifecycle events, output entries) carries `fingerprint` instead.
   */
  id: string;
  /** `fingerprint(id)`: 12 hex, names the channel in logs, events and output entries. */
  fingerprint: string;
  /** A capability: whoever has it can read the stream. Never logged whole (`redactUri`). */
  connectUri: string;
  /** Epoch ms of the channel's `expires`. */
  expiresAt: number;
}

/** What `PUT …/subscriptions?ignoreErrors=true` accepted and rejected. */
export interface SubscribeResult {
  accepted: string[];
  rejected: { topic: string; reason: string }[];
}

const CHANNEL_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** `POST /api/v2/notifications/channels` (no body; docs/genesys-behaviour.md § Notification channels). */
export async function createChannel(api: GenesysApi, token: string, now: number): Promise<Channel> {
  const res = await api.request(token, 'POST', '/api/v2/notifications/channels');
  if (res.status !== 200 && res.status !== 201) throw mapApiError(res, now, 'POST /api/v2/notifications/channels');
  const body = parse(res.text);
  const id = body?.id;
  const connectUri = body?.connectUri;
  const expires = typeof body?.expires === 'string' ? Date.parse(body.expires) : Number.NaN;
  if (typeof id !== 'string' || !CHANNEL_ID.test(id) || typeof connectUri !== 'string' || !/^wss?:\/\//.test(connectUri) || Number.isNaN(expires)) {
    throw new GtbError('ERR_UPSTREAM_REJECTED', 'POST /api/v2/notifications/channels answered without id, connectUri and expires');
  }
  return { id, fingerprint: fingerprint(id), connectUri, expiresAt: expires };
}

/**
 * Replaces a channel's subscriptions. `ignoreErrors=true` so that one forbidden topic does not
 * 403 the whole list: the answer then names each rejected topic, which the caller reports.
 */
export async function subscribe(api: GenesysApi, token: string, channelId: string, topics: readonly string[], now: number): Promise<SubscribeResult> {
  const path = `/api/v2/notifications/channels/${encodeURIComponent(channelId)}/subscriptions?ignoreErrors=true`;
  const res = await api.request(token, 'PUT', path, topics.map((id) => ({ id })));
  if (res.status !== 200) throw mapApiError(res, now, 'PUT /api/v2/notifications/channels/{id}/subscriptions');
  const entities = parse(res.text)?.entities;
  if (!Array.isArray(entities)) throw new GtbError('ERR_UPSTREAM_REJECTED', 'subscriptions answer has no entities');
  const permitted = new Set<string>();
  const reasons = new Map<string, string>();
  for (const e of entities as unknown[]) {
    if (e === null || typeof e !== 'object') continue;
    const { id, state, rejectionReason } = e as Record<string, unknown>;
    if (typeof id !== 'string') continue;
    if (state === undefined || state === 'Permitted') permitted.add(id);
    else reasons.set(id, typeof rejectionReason === 'string' ? rejectionReason.slice(0, 200) : String(state));
  }
  const accepted = topics.filter((t) => permitted.has(t));
  // A topic neither permitted nor listed is rejected too: never assume a silent subscription.
  const rejected = topics.filter((t) => !permitted.has(t)).map((topic) => ({ topic, reason: reasons.get(topic) ?? 'not in the subscription list' }));
  return { accepted, rejected };
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}
