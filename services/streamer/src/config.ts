import { z } from 'zod';
import { NAME_PATTERN, redisConfigSchema } from '@gtb/redis';

const ms = (def: number) => z.number().int().positive().default(def);

/** One notification stream: which profile's token it uses and which topics it subscribes. */
export const streamSchema = z.object({
  name: z.string().regex(NAME_PATTERN),
  profile: z.string().regex(NAME_PATTERN),
  /**
   * More than `limits.topicsPerChannel` (1,000) are sharded over channels, each with its own socket,
   * gaps and coverage; the total is bounded by what the OAuth client's channels can hold.
   */
  topics: z.array(z.string().regex(/^v2\.[A-Za-z0-9_.?&-]+$/)).min(1).max(20_000)
    .refine((topics) => new Set(topics).size === topics.length, 'topics must be unique'),
  /** Run on the topics Genesys accepted when it rejects some; off by default (never silently less). */
  allowPartialTopics: z.boolean().default(false),
});

/**
 * Timings of the stream worker. The defaults follow Genesys (30 s heartbeats, a 60 s closing
 * notice, 24 h channels); tests shrink them.
 */
export const timingSchema = z.object({
  /**
   * Silent (no heartbeat, pong or event) this long plus `pongTimeoutMs`: the socket is half-open and
   * is terminated and replaced. One 30 s heartbeat plus a margin rather than two heartbeats, so a
   * stall is replaced within two heartbeat intervals. Silence is noticed much sooner by the pings
   * (`pingIntervalMs`); this only decides when to give up on the socket.
   */
  heartbeatTimeoutMs: ms(35_000),
  /** Added to `heartbeatTimeoutMs` before a silent socket is terminated. */
  pongTimeoutMs: ms(10_000),
  /**
   * Ping (`{"message":"ping"}`) this often, whatever else arrives. A ping not answered before the
   * next one is due opens a possible gap at the last frame before it, even if the socket recovers:
   * a stall longer than this is always seen, one shorter may not be (nothing can see it).
   */
  pingIntervalMs: ms(5_000),
  /** Roll over this long before the channel's `expires`. */
  channelExpiryMarginMs: ms(10 * 60_000),
  /** Roll over this long before the token's `expires_at`. */
  tokenExpiryMarginMs: ms(5 * 60_000),
  /** How long the old socket keeps delivering after the new one receives. */
  overlapMs: z.number().int().nonnegative().default(1_000),
  /** How long a new socket may take from channel creation to its first frame. */
  connectTimeoutMs: ms(15_000),
  /** Reconnect backoff (full jitter between half and all of the capped exponential). */
  backoffBaseMs: ms(250),
  backoffMaxMs: ms(30_000),
  /** Lease TTL asked of the broker; renewed at the broker's `renew_after`. */
  leaseTtlSeconds: z.number().int().positive().default(60),
});

/** Output: the Redis Stream writer and its dedupe window and buffer. */
export const outputSchema = z.object({
  /** How long a forwarded event's dedupe marker lives. Must exceed any overlap and replay. */
  dedupeWindowMs: ms(10 * 60_000),
  /** Events held in memory while Redis is slow or down; beyond it events are dropped and reported as a gap. */
  maxBufferedEvents: ms(100_000),
  /** Events per pipelined write. */
  batchSize: ms(500),
  /** Approximate cap of each output stream (`XADD MAXLEN ~`); unbounded when absent. */
  maxStreamLength: z.number().int().positive().optional(),
  /** A write batch that Redis has not answered in this long is retried. */
  writeTimeoutMs: ms(5_000),
});

/** How gaps are bounded and shared between replicas (docs/architecture.md § Gaps). */
export const gapsSchema = z.object({
  /**
   * Subtracted from a gap's lower bound: events generated up to this long before the last one
   * received may still have been in flight (Genesys gives no order guarantee), so the recommended
   * backfill window starts this much earlier.
   */
  reorderAllowanceMs: z.number().int().nonnegative().default(2_000),
  /**
   * `eventBody` fields (dotted for nested ones) read as the event's own time (ISO 8601 or epoch
   * ms), first found wins. A gap's lower bound is the earlier of the last event's own time and its receipt.
   */
  eventTimeFields: z.array(z.string().regex(/^[A-Za-z0-9_]{1,64}(\.[A-Za-z0-9_]{1,64}){0,3}$/)).max(10)
    .default(['modifiedDate', 'routingStatus.startTime', 'timestamp', 'eventTime']),
  /**
   * An open gap whose replica has not refreshed it in Redis for this long belongs to a dead replica:
   * a receiving replica (or the standby that took over) closes it.
   */
  replicaStaleMs: ms(10_000),
  /** How long a replica's receive intervals stay in Redis for the coverage check of active-active. */
  coverageRetentionMs: ms(10 * 60_000),
});

/** Genesys' channel caps, and how many replicas hold channels at once (docs/genesys-behaviour.md § Notification channels). */
export const limitsSchema = z.object({
  /** Channels one OAuth client may hold (Genesys: 20; the 21st silently removes the oldest). */
  channelsPerClient: z.number().int().positive().max(1_000).default(20),
  /** Topics one channel may subscribe (Genesys: 1,000; more is a 400). A stream with more is sharded. */
  topicsPerChannel: z.number().int().positive().max(1_000).default(1_000),
  /** `active-active`: replicas that run every stream at once, each with its own channels. */
  replicas: z.number().int().min(1).max(10).default(2),
});

/** The resync after a gap: REST snapshots of what the stream subscribes (docs/architecture.md § Gaps). */
export const resyncSchema = z.object({
  /** Write `stream.resync` snapshot entries after each gap closes. */
  enabled: z.boolean().default(true),
  /**
   * Snapshot calls per minute per stream shard and replica. Genesys limits each token (about 300
   * requests a minute is quoted for client credentials) and the token is shared with every other
   * app on the profile, so the default takes a fifth of it.
   */
  requestsPerMinute: z.number().int().positive().max(6_000).default(60),
  /** Snapshot calls in flight at once. */
  concurrency: z.number().int().positive().max(10).default(2),
  /** Tries per snapshot call (5xx, 429 after `Retry-After`, network) before its topics are listed for backfill. */
  attempts: z.number().int().positive().max(10).default(4),
  /** Conversations remembered per topic from its events (ended ones are fetched once after a gap). */
  maxTrackedConversations: z.number().int().positive().max(100_000).default(1_000),
});

/** The streamer's configuration (what it does with it: docs/architecture.md § Event path). */
export const streamerConfigSchema = z.object({
  instanceId: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  redis: redisConfigSchema,
  keyPrefix: z.string().default('gtb'),
  brokerUrl: z.string().url(),
  /** PEM of the CA that signed an https broker's certificate; the system roots when absent. */
  brokerCa: z.string().regex(/-----BEGIN CERTIFICATE-----/, 'must be PEM text holding one or more certificates').optional()
    .describe('PEM of the CA that signed the broker\'s certificate, for an `https://` `brokerUrl` with a private CA (it replaces the system roots for calls to the broker). Give it as `brokerCaFile: /etc/gtb/broker-ca/ca.crt`; read at start.'),
  identity: z.object({
    issuer: z.string().url(),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    scope: z.string().optional(),
    /** RFC 8707 resource indicator, when the IdP needs one to mint a broker-audience token. */
    resource: z.string().optional(),
    /** Allow an http:// issuer (loopback development and tests only). */
    allowInsecure: z.boolean().default(false),
  }),
  ha: z.enum(['active-passive', 'active-active']).default('active-active'),
  /** Owner lock of active-passive: a standby takes over at most this long after the owner died. */
  ownerLockTtlMs: ms(3_000),
  http: z.object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(9464),
  }).default({ host: '127.0.0.1', port: 9464 }),
  timing: timingSchema.default(timingSchema.parse({})),
  output: outputSchema.default(outputSchema.parse({})),
  gaps: gapsSchema.default(gapsSchema.parse({})),
  limits: limitsSchema.default(limitsSchema.parse({})),
  resync: resyncSchema.default(resyncSchema.parse({})),
  streams: z.array(streamSchema).min(1)
    .refine((streams) => new Set(streams.map((s) => s.name)).size === streams.length, 'stream names must be unique'),
}).superRefine((config, ctx) => {
  // Refused at load rather than found out at run time: Genesys does not refuse the 21st channel, it
  // silently removes the client's oldest one (a live socket when all are live).
  const perProfile = new Map<string, { channels: number; streams: string[] }>();
  const holders = config.ha === 'active-active' ? config.limits.replicas : 1;
  for (const s of config.streams) {
    const p = perProfile.get(s.profile) ?? { channels: 0, streams: [] };
    // Each shard holds two channels during a rollover's overlap (the old and the new).
    p.channels += shardCount(s.topics.length, config.limits.topicsPerChannel) * 2 * holders;
    p.streams.push(`${s.name} (${s.topics.length} topics)`);
    perProfile.set(s.profile, p);
  }
  for (const [profile, p] of perProfile) {
    if (p.channels <= config.limits.channelsPerClient) continue;
    ctx.addIssue({
      code: 'custom',
      path: ['limits', 'channelsPerClient'],
      message: `profile ${profile} needs ${p.channels} channels (streams ${p.streams.join(', ')}; one channel per ${config.limits.topicsPerChannel} topics `
        + `(limits.topicsPerChannel), twice during a rollover, × ${holders} ${config.ha === 'active-active' ? 'active-active replicas (limits.replicas)' : 'owner (active-passive)'}), `
        + `more than limits.channelsPerClient (${config.limits.channelsPerClient}): split the topics over profiles with their own OAuth clients, or fewer topics`,
    });
  }
});

/** Channels a stream of `topics` topics is sharded over. */
export function shardCount(topics: number, topicsPerChannel: number): number {
  return Math.max(1, Math.ceil(topics / topicsPerChannel));
}

export type StreamerConfig = z.infer<typeof streamerConfigSchema>;
export type StreamConfig = z.infer<typeof streamSchema>;
export type TimingConfig = z.infer<typeof timingSchema>;
export type OutputConfig = z.infer<typeof outputSchema>;
export type GapsConfig = z.infer<typeof gapsSchema>;
export type ResyncConfig = z.infer<typeof resyncSchema>;
export type LimitsConfig = z.infer<typeof limitsSchema>;
