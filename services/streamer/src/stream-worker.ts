import { isGtbError } from '@gtb/errors';
import type { EventPublisher } from '@gtb/events';
import type { GenesysApi } from '@gtb/genesys';
import type { Logger } from '@gtb/logger';
import { backoffDelay, sleep } from './backoff.js';
import type { BrokerClient, LeaseHelper } from '@gtb/client';
import { connectChannel, type Connection } from './channel-connector.js';
import type { SocketEnd } from './channel-socket.js';
import type { StreamConfig, TimingConfig } from './config.js';
import type { EventSink } from './event-sink.js';
import type { Frame } from './frame.js';
import type { Gap, GapReporter } from './gap-reporter.js';
import type { StreamerMetrics } from './metrics.js';
import { startStreamLease } from './stream-lease.js';

export interface StreamWorkerDeps {
  stream: StreamConfig;
  timing: TimingConfig;
  broker: BrokerClient;
  api: (apiBaseUrl: string) => GenesysApi;
  sink: EventSink;
  events: EventPublisher;
  gaps: GapReporter;
  metrics: StreamerMetrics;
  logger: Logger;
  now: () => number;
  random: () => number;
  instanceId: string;
  /** A gap already open when the worker starts (a standby taking over): closed by the first socket. */
  initialGap?: Omit<Gap, 'to' | 'stream'>;
}

/** What `/readyz` and tests look at. */
export interface WorkerStatus {
  stream: string;
  receiving: boolean;
  /** The primary channel's fingerprint (never its id: whoever has the id can open the socket). */
  channelFingerprint: string | undefined;
  rollovers: number;
  failed: string | undefined;
}

/** Keeps one stream's notification socket alive and its events flowing into the sink. */
export interface StreamWorker {
  start(): Promise<void>;
  /** Make-before-break rollover now (`trigger` names why, e.g. `manual`). */
  rollover(trigger: string): Promise<void>;
  /** The broker rotated the profile's token (lifecycle `token.rotated`). */
  tokenRotated(fingerprint: string): void;
  status(): WorkerStatus;
  stop(): Promise<void>;
}

const TOKEN_TRIGGERS = new Set(['token_rotated', 'token_revoked']);
const MIN_TIMER_MS = 250;

/** Builds the worker of one stream: lease, channel, socket, rollover, gaps (docs/architecture.md § Event path). */
export function createStreamWorker(deps: StreamWorkerDeps): StreamWorker {
  const { stream, timing, sink, events, gaps, metrics, now } = deps;
  const log = deps.logger.child({ component: 'stream-worker', stream: stream.name });
  const labels = { stream: stream.name };
  const connections = new Set<Connection>();
  let lease: LeaseHelper | undefined;
  let primary: Connection | undefined;
  let openGap: Omit<Gap, 'to' | 'stream'> | undefined = deps.initialGap;
  let rolling: Promise<void> | undefined;
  let rollAgain: string | undefined;
  let stopped = false;
  let failed: string | undefined;
  let rolloverCount = 0;
  const timers = new Set<NodeJS.Timeout>();
  const stopSignal = new AbortController();

  const receiving = () => [...connections].some((c) => !c.retiring && !c.socket.ended && c.socket.receivingAt !== undefined);

  function later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => { timers.delete(t); fn(); }, Math.max(MIN_TIMER_MS, ms));
    t.unref();
    timers.add(t);
    return t;
  }

  const handlers = {
    onFrame(conn: Connection, frame: Extract<Frame, { kind: 'event' | 'system' }>, at: number) {
      if (frame.kind === 'event') {
        metrics.eventsIn.inc(labels);
        sink.push({
          dedupeId: frame.dedupeId, topic: frame.topic, text: frame.text, receivedAt: at, channelFingerprint: conn.socket.channel.fingerprint,
          ...(frame.sequence === undefined ? {} : { sequence: frame.sequence }),
          ...(frame.correlationId === undefined ? {} : { correlationId: frame.correlationId }),
        });
        return;
      }
      log.info({ topic: frame.topic, channelFingerprint: conn.socket.channel.fingerprint }, 'system message');
      const trigger = frame.topic === 'v2.system.socket_closing' ? 'socket_closing'
        : frame.topic.startsWith('v2.system.token_revoked') ? 'token_revoked'
        : frame.topic.startsWith('v2.system.no_longer_subscribed') ? 'no_longer_subscribed' : undefined;
      if (!trigger || conn.retiring) return; // a notice on a socket already being replaced is moot
      if (conn === primary && !rolling) {
        void rollover(trigger);
        return;
      }
      // The notice came on a rollover's new socket before its promotion, or on the primary while a
      // rollover is under way: remember it, and the rollover's end rolls again if this socket is
      // then in charge (found by the rotation benchmark: a socket_closing that landed on a socket
      // being promoted was lost, and its close became a gap).
      conn.pendingRollover ??= trigger;
    },
    onReceiving(conn: Connection, at: number) {
      // Counted from its first frame, before promotion: an old socket dropping now is covered.
      if (!stopped) connections.add(conn);
      if (openGap) {
        gaps.report({ stream: stream.name, ...openGap, to: at }, 'drop');
        metrics.gaps.inc({ stream: stream.name, cause: 'drop' });
        openGap = undefined;
      }
      log.debug({ channelFingerprint: conn.socket.channel.fingerprint }, 'socket receiving');
    },
    onEnd(conn: Connection, end: SocketEnd) {
      connections.delete(conn);
      metrics.drops.inc({ stream: stream.name, planned: String(end.planned || conn.retiring) });
      metrics.sockets.set(labels, [...connections].filter((c) => c.socket.receivingAt !== undefined).length);
      const planned = end.planned || conn.retiring || stopped;
      void events.tryPublish('stream.dropped', stream.name, {
        stream: stream.name, channelFingerprint: conn.socket.channel.fingerprint, reason: end.reason.slice(0, 200) || 'closed', planned,
        ...(end.code !== undefined && end.code >= 1000 && end.code <= 4999 ? { closeCode: end.code } : {}),
      });
      if (planned) return;
      log.warn({ channelFingerprint: conn.socket.channel.fingerprint, reason: end.reason }, 'socket dropped unexpectedly');
      if (conn === primary) primary = undefined;
      if (receiving()) {
        // Another socket (a rollover's new one) delivers: the overlap covers this drop.
        primary ??= [...connections].find((c) => !c.retiring && c.socket.receivingAt !== undefined);
        return;
      }
      openGap ??= {
        from: conn.socket.lastFrameAt ?? conn.socket.receivingAt ?? now(),
        ...(conn.socket.lastSequence === undefined ? {} : { lastSequence: conn.socket.lastSequence }),
        ...(conn.socket.lastEventId === undefined ? {} : { lastEventId: conn.socket.lastEventId }),
        reason: `socket dropped: ${end.reason}`.slice(0, 200),
      };
      void rollover('reconnect');
    },
  };

  /** Opens a new connection with the lease's current token, retrying with jittered backoff. */
  async function connectWithRetry(trigger: string): Promise<Connection | undefined> {
    for (let attempt = 0; !stopped; attempt++) {
      if (attempt > 0 || trigger === 'reconnect') {
        const delay = attempt === 0 ? Math.round(timing.backoffBaseMs * deps.random()) : backoffDelay(attempt - 1, timing.backoffBaseMs, timing.backoffMaxMs, deps.random);
        await sleep(delay, stopSignal.signal);
        if (stopped) return undefined;
      }
      try {
        // Renewing first picks up a rotated token; the broker answers from its cache.
        const current = await lease!.renewNow();
        const conn = await connectChannel({ stream, timing, api: deps.api, events, metrics, logger: deps.logger, now }, current.token, handlers);
        if (stopped) {
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
      }
    }
    return undefined;
  }

  function promote(conn: Connection): void {
    connections.add(conn);
    primary = conn;
    metrics.sockets.set(labels, [...connections].filter((c) => c.socket.receivingAt !== undefined).length);
    const channel = conn.socket.channel;
    const t = now();
    // Half the remaining life as a floor, so that a margin longer than the life cannot spin.
    later(Math.max(channel.expiresAt - timing.channelExpiryMarginMs - t, (channel.expiresAt - t) / 2), () => {
      if (primary === conn) void rollover('channel_expiring');
    });
    const tokenCheck = (delay: number) => later(delay, () => {
      if (primary !== conn || stopped) return;
      // A renewal that returns a new token rolls over through onTokenChanged ('token_rotated').
      void lease!.renewNow().then((current) => {
        if (primary !== conn || current.token.fingerprint !== conn.fingerprint) return;
        log.warn({ fingerprint: conn.fingerprint }, 'token expiring and the broker still hands out the same one; asking again');
        tokenCheck(Math.max(1_000, (conn.tokenExpiresAt - now()) / 2));
      }, (err: unknown) => {
        log.warn({ err: (err as Error).message }, 'lease renewal before token expiry failed; retrying');
        tokenCheck(1_000);
      });
    });
    tokenCheck(Math.max(conn.tokenExpiresAt - timing.tokenExpiryMarginMs - t, (conn.tokenExpiresAt - t) / 2));
    void events.tryPublish('stream.connected', stream.name, { stream: stream.name, channelFingerprint: channel.fingerprint, connectionId: conn.socket.connectionId });
  }

  async function doRollover(trigger: string): Promise<void> {
    const old = primary;
    const started = now();
    const next = await connectWithRetry(trigger);
    if (!next) return;
    promote(next);
    if (old && !old.socket.ended) {
      // Both sockets deliver during the overlap; the sink's dedupe drops the doubles.
      if (timing.overlapMs > 0) await sleep(timing.overlapMs, stopSignal.signal);
      old.retiring = true;
      old.socket.close(`rollover: ${trigger}`);
    }
    rolloverCount += 1;
    if (old) {
      metrics.rollovers.inc({ stream: stream.name, trigger });
      void events.tryPublish('stream.rolled_over', stream.name, {
        stream: stream.name, fromChannelFingerprint: old.socket.channel.fingerprint, toChannelFingerprint: next.socket.channel.fingerprint, trigger, overlapMs: Math.max(0, now() - (next.socket.receivingAt ?? started)),
      });
      log.info({ from: old.socket.channel.fingerprint, to: next.socket.channel.fingerprint, trigger, tookMs: now() - started }, 'rolled over');
    }
  }

  function rollover(trigger: string): Promise<void> {
    if (stopped) return Promise.resolve();
    if (rolling) {
      // A token change during a rollover may postdate the token the new socket was made with.
      if (TOKEN_TRIGGERS.has(trigger)) rollAgain = trigger;
      return rolling;
    }
    rolling = doRollover(trigger)
      .catch((err: unknown) => log.error({ err }, 'rollover failed'))
      .finally(() => {
        rolling = undefined;
        const again = rollAgain;
        rollAgain = undefined;
        const current = lease?.current();
        const noticed = primary?.pendingRollover;
        if (noticed && primary && !stopped) {
          primary.pendingRollover = undefined;
          void rollover(noticed);
        } else if (again && current && primary && current.token.fingerprint !== primary.fingerprint) void rollover(again);
        else if (!stopped && !receiving() && !primary) void rollover('reconnect');
      });
    return rolling;
  }

  return {
    async start() {
      lease = await startStreamLease({
        broker: deps.broker, profile: stream.profile, holder: `streamer:${deps.instanceId}:${stream.name}`.slice(0, 200),
        ttlSeconds: timing.leaseTtlSeconds, now, random: deps.random, logger: deps.logger,
        onTokenChanged: () => { void rollover('token_rotated'); },
      });
      if (stopped) {
        await lease.stop(); // stopped while the first lease was on its way
        return;
      }
      await rollover('start');
    },
    rollover,
    tokenRotated(fingerprint) {
      if (primary && primary.fingerprint === fingerprint) return;
      void rollover('token_rotated');
    },
    status: () => ({ stream: stream.name, receiving: receiving(), channelFingerprint: primary?.socket.channel.fingerprint, rollovers: rolloverCount, failed }),
    async stop() {
      stopped = true;
      stopSignal.abort();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await rolling;
      for (const c of connections) {
        c.retiring = true;
        c.socket.close('stopping');
      }
      connections.clear();
      await lease?.stop();
    },
  };
}
