import type { BrokerClient, LeaseHelper } from '@gtb/client';
import { backoffDelay, isGtbError } from '@gtb/errors';
import type { RedisClient } from '@gtb/redis';
import type { EventPublisher } from '@gtb/events';
import type { GenesysApi } from '@gtb/genesys';
import type { Logger } from '@gtb/logger';
import { sleep } from './backoff.js';
import { connectChannel, type ConnectHandlers, type Connection } from './channel-connector.js';
import { createChannelExpiry } from './channel-expiry.js';
import { createChannelRollover } from './channel-rollover.js';
import type { GapsConfig, ResyncConfig, StreamConfig, TimingConfig } from './config.js';
import type { PendingEvent } from './event-sink.js';
import type { Gap, GapReporter } from './gap-reporter.js';
import { createGapTracker, type GapStart } from './gap-tracker.js';
import type { StreamerMetrics } from './metrics.js';
import { createResyncer } from './resync/resync.js';
import { startStreamLease } from './stream-lease.js';

export interface StreamWorkerDeps {
  /** The stream, or one shard of it (its topics only). */
  stream: StreamConfig;
  /** The shard's index when the stream is sharded over channels (its own gaps and coverage). */
  shard?: number;
  resync: ResyncConfig;
  timing: TimingConfig;
  gapsConfig: GapsConfig;
  ha: 'active-active' | 'active-passive';
  /** Where open gaps and receive intervals are kept (shared by the replicas). */
  redis: RedisClient;
  keyPrefix: string;
  broker: BrokerClient;
  api: (apiBaseUrl: string) => GenesysApi;
  /** The event sink's `push`, handed to every socket: notifications never pass through the worker. */
  push(event: PendingEvent): void;
  /** Lifecycle events (`stream.*`). */
  lifecycle: EventPublisher;
  gaps: GapReporter;
  metrics: StreamerMetrics;
  logger: Logger;
  now: () => number;
  random: () => number;
  instanceId: string;
  /** A gap already open when the worker starts (a standby taking over): closed by the first socket. */
  initialGap?: GapStart & { cause: string };
}

/** What `/readyz` and tests look at. */
export interface WorkerStatus {
  stream: string;
  receiving: boolean;
  /** The primary channel's fingerprint (never its id: whoever has the id can open the socket). */
  channelFingerprint: string | undefined;
  /**
   * When the primary channel expires (epoch ms, the `expires` of its create answer, which the
   * expiry timer rolls over ahead of): the state reporter publishes it for the console.
   */
  channelExpiresAt?: number | undefined;
  rollovers: number;
  failed: string | undefined;
}

/** Keeps one stream's notification socket alive: lease, control frames, rollovers, gaps. */
export interface StreamWorker {
  start(): Promise<void>;
  /** Make-before-break rollover now (`trigger` names why, e.g. `manual`). */
  rollover(trigger: string): Promise<void>;
  /** The broker rotated the profile's token (lifecycle `token.rotated`). */
  tokenRotated(fingerprint: string): void;
  /** A gap found outside the worker (the sink's buffer overflowed): write its entry and resync. */
  resyncGap(gap: Gap): void;
  status(): WorkerStatus;
  stop(): Promise<void>;
}

/** Genesys answered 401: the token is dead (revoked outside the broker), not the channel. */
function isUnauthorized(err: unknown): boolean {
  return isGtbError(err) && err.details?.['upstreamStatus'] === 401;
}

/** The rollover a `v2.system.*` notice asks for, if any. */
function triggerOf(topic: string): string | undefined {
  if (topic === 'v2.system.socket_closing') return 'socket_closing';
  if (topic.startsWith('v2.system.token_revoked')) return 'token_revoked';
  if (topic.startsWith('v2.system.no_longer_subscribed')) return 'no_longer_subscribed';
  return undefined;
}

/**
 * Builds the worker of one stream (docs/architecture.md § Event path). Events go from each socket
 * to the sink; the worker hears only control frames and socket ends, and drives the rollover.
 */
export function createStreamWorker(deps: StreamWorkerDeps): StreamWorker {
  const { stream, timing, lifecycle, metrics, now } = deps;
  const log = deps.logger.child({ component: 'stream-worker', stream: stream.name, ...(deps.shard === undefined ? {} : { shard: deps.shard }) });
  const stopping = new AbortController();
  const { signal } = stopping;
  let lease: LeaseHelper | undefined;
  let failed: string | undefined;

  const resyncer = createResyncer({
    topics: stream.topics, config: deps.resync, instanceId: deps.instanceId, metrics, logger: log, now, push: deps.push,
    api: () => {
      const current = lease?.current()?.token;
      return current ? { api: deps.api(current.apiBaseUrl), token: current.accessToken } : undefined;
    },
  });
  /** Every event passes the resyncer (conversation ids) on its way from the socket to the sink. */
  const push = (event: PendingEvent) => {
    resyncer.observe(event);
    deps.push(event);
  };
  // Others' receive records lag their last frame by up to a ping interval (pongs keep it fresh) plus a refresh.
  const refreshMs = Math.max(100, Math.min(1_000, Math.floor(timing.pingIntervalMs / 2)));
  const gap = createGapTracker({
    stream: stream.name, instanceId: deps.instanceId, ha: deps.ha, redis: deps.redis, keyPrefix: deps.keyPrefix, gaps: deps.gaps, metrics,
    logger: deps.logger, now, config: deps.gapsConfig, freshMs: timing.pingIntervalMs + 2 * refreshMs, refreshMs,
    ...(deps.initialGap ? { initial: deps.initialGap } : {}),
    ...(deps.shard === undefined ? {} : { shard: deps.shard }),
    backfill: resyncer.backfill,
    onClosed: (closed) => resyncer.gapClosed(closed),
  });
  let ticking = false;
  const ticker = setInterval(() => {
    if (ticking) return;
    ticking = true;
    void gap.tick({ receiving: channels.receiving(), lastHeard: channels.lastHeard() }).finally(() => { ticking = false; });
  }, refreshMs);
  ticker.unref();
  const channels = createChannelRollover({
    stream: stream.name, overlapMs: timing.overlapMs, lifecycle, metrics, logger: deps.logger, now, signal,
    connect: connectWithRetry,
    onPromoted: (conn) => expiry.watch(conn),
    leaseFingerprint: () => lease?.current()?.token.fingerprint,
  });
  const expiry = createChannelExpiry({
    timing, now, logger: log, signal,
    inCharge: (conn) => channels.primary() === conn,
    roll: (trigger) => void channels.roll(trigger),
    renewNow: () => lease!.renewNow(),
  });

  const handlers: ConnectHandlers = {
    onControl(conn, frame) {
      // The topic's type only: `v2.system.token_revoked.<channel id>` carries the id, a capability.
      log.info({ topic: frame.topic.split('.').slice(0, 3).join('.'), channelFingerprint: conn.socket.channel.fingerprint }, 'system message');
      const trigger = triggerOf(frame.topic);
      // The broker cannot know Genesys revoked its token: tell it, so the rollover gets a live one.
      if (trigger === 'token_revoked') void reportRejected(conn.fingerprint, 'v2.system.token_revoked');
      if (trigger) channels.notice(conn, trigger);
    },
    onSilent(conn, from, seen) {
      log.warn({ channelFingerprint: conn.socket.channel.fingerprint }, 'a ping went unanswered: events may be missing');
      if (channels.receiving()) return; // another socket (a rollover's) delivers meanwhile
      gap.open({ lastFrameAt: from, ...seen, reason: 'silence: a ping went unanswered' }, 'silence');
    },
    onHeard(conn, at) {
      log.info({ channelFingerprint: conn.socket.channel.fingerprint }, 'socket delivers again after a silence');
      gap.close(at);
    },
    onReceiving(conn, at) {
      // Counted from its first frame, before promotion: an old socket dropping now is covered.
      channels.track(conn);
      gap.close(at);
      log.debug({ channelFingerprint: conn.socket.channel.fingerprint }, 'socket receiving');
    },
    onEnd(conn, end) {
      const outcome = channels.ended(conn, end.planned);
      metrics.drops.inc({ stream: stream.name, planned: String(end.planned || conn.retiring) });
      void lifecycle.tryPublish('stream.dropped', stream.name, {
        stream: stream.name, channelFingerprint: conn.socket.channel.fingerprint, reason: end.reason.slice(0, 200) || 'closed', planned: outcome === 'planned',
        ...(end.code !== undefined && end.code >= 1000 && end.code <= 4999 ? { closeCode: end.code } : {}),
      });
      if (outcome === 'planned') return;
      log.warn({ channelFingerprint: conn.socket.channel.fingerprint, reason: end.reason }, 'socket dropped unexpectedly');
      if (outcome === 'covered') return;
      const { socket } = conn;
      gap.open({
        lastFrameAt: socket.lastFrameAt ?? socket.receivingAt ?? now(), lastEventAt: socket.lastEventAt, lastSequence: socket.lastSequence,
        lastEventId: socket.lastEventId, reason: `socket dropped: ${end.reason}`,
      }, 'drop');
      void channels.roll('reconnect');
    },
  };

  /** Reports a token Genesys refused to the broker, which confirms, replaces it and hands the replacement to the lease. */
  function reportRejected(fingerprint: string, why: string): Promise<boolean> {
    if (!lease) return Promise.resolve(false);
    log.warn({ fingerprint, why }, 'Genesys rejected the token (401): reporting it to the broker for a replacement');
    return lease.reportRejected(fingerprint).then((next) => {
      log.info({ rejected: fingerprint, fingerprint: next.token.fingerprint }, 'the broker handed out a replacement token');
      return next.token.fingerprint !== fingerprint;
    }, (err: unknown) => {
      log.warn({ err: (err as Error).message }, 'reporting the rejected token failed; retrying with backoff');
      return false;
    });
  }

  /** Opens a new connection with the lease's current token, retrying with jittered backoff. */
  async function connectWithRetry(trigger: string): Promise<Connection | undefined> {
    let retryNow = false;
    for (let attempt = 0; !signal.aborted; attempt++) {
      if (retryNow) {
        retryNow = false; // a replaced token is tried at once, then backoff as usual
      } else if (attempt > 0 || trigger === 'reconnect') {
        const delay = attempt === 0 ? Math.round(timing.backoffBaseMs * deps.random()) : backoffDelay(attempt - 1, { baseMs: timing.backoffBaseMs, maxMs: timing.backoffMaxMs }, deps.random);
        await sleep(delay, signal);
        if (signal.aborted) return undefined;
      }
      let current: Awaited<ReturnType<LeaseHelper['renewNow']>> | undefined;
      try {
        // Renewing first picks up a rotated token; the broker answers from its cache.
        current = await lease!.renewNow();
        const conn = await connectChannel({
          stream, timing, eventTimeFields: deps.gapsConfig.eventTimeFields, api: deps.api, lifecycle, push, metrics, logger: deps.logger, now,
        }, current.token, handlers);
        if (signal.aborted) {
          conn.retiring = true;
          conn.socket.close('stopping');
          return undefined;
        }
        failed = undefined;
        return conn;
      } catch (err) {
        const code = isGtbError(err) ? err.code : undefined;
        if (code === 'ERR_TOPICS_REJECTED') failed = (err as Error).message;
        log.warn({ err: (err as Error).message, code, attempt, trigger }, 'could not open a socket; backing off');
        // A dead token is replaced, not retried: channel create, subscribe or the upgrade answered 401.
        if (current && isUnauthorized(err)) retryNow = await reportRejected(current.token.fingerprint, 'answered 401');
      }
    }
    return undefined;
  }

  return {
    async start() {
      lease = await startStreamLease({
        broker: deps.broker, profile: stream.profile, holder: `streamer:${deps.instanceId}:${stream.name}`.slice(0, 200),
        ttlSeconds: timing.leaseTtlSeconds, now, random: deps.random, logger: deps.logger,
        onTokenChanged: () => { void channels.roll('token_rotated'); },
      });
      if (signal.aborted) {
        await lease.stop(); // stopped while the first lease was on its way
        return;
      }
      await channels.roll('start');
    },
    rollover: (trigger) => channels.roll(trigger),
    tokenRotated(fingerprint) {
      if (channels.primary()?.fingerprint === fingerprint) return;
      void channels.roll('token_rotated');
    },
    resyncGap: (g) => resyncer.gapClosed({ ...g, ...(deps.shard === undefined ? {} : { shard: deps.shard }), ...(resyncer.backfill.length ? { backfill: resyncer.backfill } : {}) }),
    status: () => ({
      stream: stream.name, receiving: channels.receiving(), channelFingerprint: channels.primary()?.socket.channel.fingerprint,
      channelExpiresAt: channels.primary()?.socket.channel.expiresAt, rollovers: channels.count(), failed,
    }),
    async stop() {
      stopping.abort();
      expiry.clear();
      clearInterval(ticker);
      await channels.stop();
      // Resyncs under way finish (or give up); a gap closed at shutdown gets its entry, no snapshot.
      await resyncer.stop();
      // An open gap is published as closed at shutdown: never left for a log line alone.
      await gap.stop();
      await lease?.stop();
    },
  };
}
