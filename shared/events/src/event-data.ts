import { z } from 'zod';
import { NAME_PATTERN } from '@gtb/redis';

/*
 * The `data` of each lifecycle event type (when each is published:
 * docs/architecture.md § Lifecycle events). Every object is strict: an unknown key is an error,
 * so a token can never ride along under a new field name. Values are bounded so that one event
 * stays small on pub/sub.
 */

const name = z.string().regex(NAME_PATTERN, 'must be a profile or stream name');
/** `fingerprint()` of @gtb/logger: the first 12 hex of the token's SHA-256, never the token. */
const fingerprint = z.string().regex(/^[0-9a-f]{12}$/, 'must be a 12-hex fingerprint, never a token');
/** RFC 3339 with a `Z` or numeric offset, as `Date.prototype.toISOString()` writes it. */
const time = z.iso.datetime({ offset: true });
const id = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be an identifier');
const text = (max: number) => z.string().min(1).max(max);
const nonNegInt = z.number().int().nonnegative();
/** Short machine-readable word: `socket_closing`, `token_rotated`, `maintenance`… */
const word = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'must be a lower-case word');

const tokenIssued = z.strictObject({
  profile: name,
  fingerprint,
  expiresAt: time,
  previousFingerprint: fingerprint.optional(),
  fence: nonNegInt.optional(),
});

const lease = z.strictObject({
  leaseId: id,
  profile: name,
  holder: text(200),
  leaseExpiresAt: time,
  fingerprint: fingerprint.optional(),
});

/**
 * Topics as a pattern and the ids put in it (`v2.users.{id}.conversations` and the user ids): a
 * topic name whole can hold a run long enough to pass for a secret in the check every string goes
 * through, and the split form is shorter.
 */
const backfillList = z.array(z.strictObject({
  topic: z.string().regex(/^v2\.[A-Za-z0-9_.{}?&-]{1,200}$/, 'must be a topic pattern'),
  ids: z.array(z.string().regex(/^[A-Za-z0-9_. -]{1,200}$/, 'must be ids')).max(200),
})).max(50);

/** The zod schema of `data` per event type; the keys are the type names exactly as published. */
export const EVENT_DATA_SCHEMAS = {
  'token.minted': tokenIssued,
  'token.rotated': tokenIssued,
  'token.revoked': z.strictObject({
    profile: name,
    fingerprint: fingerprint.optional(),
    /** `admin`: an operator revoked it through the broker; `upstream`: Genesys rejected it (revoked elsewhere) and the broker confirmed. */
    cause: z.enum(['admin', 'upstream']).optional(),
    reason: text(200).optional(),
  }),
  'token.mint_failed': z.strictObject({
    profile: name,
    /** An ErrorCode of @gtb/errors or the upstream OAuth `error`, e.g. `invalid_client`. */
    code: z.string().regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/, 'must be an error code'),
    message: text(500),
  }),
  'token.rate_limited': z.strictObject({ profile: name, retryAfterSeconds: z.number().finite().nonnegative() }),
  'lease.granted': lease,
  'lease.renewed': lease,
  'lease.released': lease,
  'lease.expired': lease,
  // Channels by fingerprint only: a channel id is a capability (its socket opens without a token).
  'stream.handshake_initiated': z.strictObject({ stream: name, profile: name, channelFingerprint: fingerprint.optional() }),
  'stream.connected': z.strictObject({ stream: name, channelFingerprint: fingerprint, connectionId: id }),
  'stream.dropped': z.strictObject({
    stream: name,
    channelFingerprint: fingerprint,
    reason: text(200),
    closeCode: z.number().int().min(1000).max(4999).optional(),
    planned: z.boolean(),
  }),
  'stream.rolled_over': z.strictObject({
    stream: name,
    fromChannelFingerprint: fingerprint,
    toChannelFingerprint: fingerprint,
    /** Why: `socket_closing`, `token_rotated`, `token_revoked`, `channel_expiring`, `token_expiring`, `manual`… */
    trigger: word,
    overlapMs: nonNegInt,
  }),
  /** A span in which no replica received: published the moment it starts; `stream.gap` with the same `gapId` closes it. */
  'stream.gap_opened': z.strictObject({
    stream: name,
    gapId: id,
    from: time,
    lastSequence: nonNegInt.optional(),
    lastEventId: id.optional(),
    reason: text(200),
    /** The stream's shard, for a stream sharded over channels. */
    shard: nonNegInt.optional(),
  }),
  'stream.gap': z.strictObject({
    stream: name,
    /** The `gapId` of the `stream.gap_opened` this closes, when one was published. */
    gapId: id.optional(),
    from: time,
    to: time,
    lastSequence: nonNegInt.optional(),
    lastEventId: id.optional(),
    reason: text(200),
    /** The stream's shard (one channel per 1,000 topics) the gap is on; absent for an unsharded stream. */
    shard: nonNegInt.optional(),
    /** Topics the streamer cannot resync from a REST snapshot: the consumer backfills these. */
    backfill: backfillList.optional(),
    /** How many topics need a backfill (`backfill` lists at most 200 ids per pattern; the output's gap entry lists them all). */
    backfillTopicCount: nonNegInt.optional(),
  }).refine((d) => Date.parse(d.from) <= Date.parse(d.to), { message: '`from` must not be after `to`', path: ['to'] }),
  'stream.failover': z.strictObject({ stream: name, fromInstance: id.optional(), toInstance: id, fence: nonNegInt }),
} as const;

/** Every lifecycle event type, by its published name. */
export type EventType = keyof typeof EVENT_DATA_SCHEMAS;

/** The `data` shape of one event type. */
export type EventData<T extends EventType> = z.infer<(typeof EVENT_DATA_SCHEMAS)[T]>;

/** Every lifecycle event type, grouped: token.*, lease.*, stream.*. */
export const EVENT_TYPES = Object.keys(EVENT_DATA_SCHEMAS) as EventType[];

/** True when `type` is one of the lifecycle event types. */
export function isEventType(type: unknown): type is EventType {
  return typeof type === 'string' && Object.hasOwn(EVENT_DATA_SCHEMAS, type);
}

/** The `data` field that names an event's subject: the stream for `stream.*`, else the profile. */
export function subjectField(type: EventType): 'stream' | 'profile' {
  return type.startsWith('stream.') ? 'stream' : 'profile';
}
