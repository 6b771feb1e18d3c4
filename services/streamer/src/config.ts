import { z } from 'zod';
import { NAME_PATTERN, redisConfigSchema } from '@gtb/redis';

const ms = (def: number) => z.number().int().positive().default(def);

/** One notification stream: which profile's token it uses and which topics it subscribes. */
export const streamSchema = z.object({
  name: z.string().regex(NAME_PATTERN),
  profile: z.string().regex(NAME_PATTERN),
  topics: z.array(z.string().regex(/^v2\.[A-Za-z0-9_.?&-]+$/)).min(1).max(1000),
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
  streams: z.array(streamSchema).min(1)
    .refine((streams) => new Set(streams.map((s) => s.name)).size === streams.length, 'stream names must be unique'),
});

export type StreamerConfig = z.infer<typeof streamerConfigSchema>;
export type StreamConfig = z.infer<typeof streamSchema>;
export type TimingConfig = z.infer<typeof timingSchema>;
export type OutputConfig = z.infer<typeof outputSchema>;
export type GapsConfig = z.infer<typeof gapsSchema>;
