import type { EventPublisher } from '@gtb/events';
import type { Logger } from '@gtb/logger';
import { annotateActiveSpan, inSpan, tracerOf } from '@gtb/tracing';
import { sleep } from './backoff.js';
import type { Connection } from './channel-connector.js';
import type { StreamerMetrics } from './metrics.js';

export interface ChannelRolloverDeps {
  stream: string;
  overlapMs: number;
  lifecycle: EventPublisher;
  metrics: StreamerMetrics;
  logger: Logger;
  now: () => number;
  /** Aborted when the stream stops: no rollover starts after it, an overlap in progress ends. */
  signal: AbortSignal;
  /** Opens the next connection, retrying until it receives; undefined when the stream stopped first. */
  connect(trigger: string): Promise<Connection | undefined>;
  /** The connection was put in charge (arm its expiry timers). */
  onPromoted(conn: Connection): void;
  /** The fingerprint of the token the lease holds now. */
  leaseFingerprint(): string | undefined;
}

/** Which sockets a stream has, which one is in charge, and how it is replaced. */
export interface ChannelRollover {
  /** Make-before-break: connect the next socket, promote it, close the old one after the overlap. */
  roll(trigger: string): Promise<void>;
  /** A control frame on `conn` asks for a rollover (`socket_closing`, `token_revoked`, …). */
  notice(conn: Connection, trigger: string): void;
  /** `conn` received its first frame: from now on it covers a drop of the others, promoted or not. */
  track(conn: Connection): void;
  /**
   * `conn` ended. `planned`: asked for (a rollover, a stop); `covered`: unplanned, but another socket
   * receives and takes charge; `uncovered`: nothing receives, events are being missed.
   */
  ended(conn: Connection, planned: boolean): 'planned' | 'covered' | 'uncovered';
  primary(): Connection | undefined;
  /** True while a socket that is not being retired receives. */
  receiving(): boolean;
  /** The last frame heard on a delivering socket (what this replica's receive record extends to). */
  lastHeard(): number | undefined;
  /** Rollovers completed (the first connection is not one). */
  count(): number;
  /** Waits for a rollover in progress, then closes every socket. */
  stop(): Promise<void>;
}

const tracer = tracerOf('gtb.streamer');

/** A token change may postdate the token a rollover in progress made its socket with. */
const TOKEN_TRIGGERS = new Set(['token_rotated', 'token_revoked']);

/** The rollover state machine of one stream. */
export function createChannelRollover(deps: ChannelRolloverDeps): ChannelRollover {
  const { stream, metrics, lifecycle, now, signal } = deps;
  const log = deps.logger.child({ component: 'channel-rollover', stream });
  const connections = new Set<Connection>();
  let primary: Connection | undefined;
  let rolling: Promise<void> | undefined;
  let rollAgain: string | undefined;
  let completed = 0;

  // A silent socket (an unanswered ping) is not delivering: it covers nothing until it is heard again.
  const delivering = (c: Connection) => !c.retiring && !c.socket.ended && !c.socket.silent && c.socket.receivingAt !== undefined;
  const receiving = () => [...connections].some(delivering);
  const countSockets = () => metrics.sockets.set({ stream }, [...connections].filter((c) => c.socket.receivingAt !== undefined).length);

  function promote(conn: Connection): void {
    connections.add(conn);
    primary = conn;
    countSockets();
    deps.onPromoted(conn);
    const channel = conn.socket.channel;
    void lifecycle.tryPublish('stream.connected', stream, { stream, channelFingerprint: channel.fingerprint, connectionId: conn.socket.connectionId });
  }

  /**
   * One rollover as its own trace (`gtb.streamer.rollover`, trigger and channels by fingerprint):
   * the connect of the new socket, then the overlap, then the old socket's close. The first
   * connection of a stream is one too (trigger `start`, no old channel).
   */
  function rollOnce(trigger: string): Promise<void> {
    return inSpan(tracer, 'gtb.streamer.rollover', { root: true, attributes: { 'gtb.stream': stream, 'gtb.rollover.trigger': trigger } }, () => rollTraced(trigger));
  }

  async function rollTraced(trigger: string): Promise<void> {
    const old = primary;
    const started = now();
    const next = await deps.connect(trigger);
    if (!next) return;
    promote(next);
    annotateActiveSpan({ 'gtb.channel.fingerprint': next.socket.channel.fingerprint, 'gtb.channel.previous_fingerprint': old?.socket.channel.fingerprint });
    if (old && !old.socket.ended) {
      // Both sockets deliver during the overlap; the sink's dedupe drops the doubles.
      if (deps.overlapMs > 0) await inSpan(tracer, 'gtb.streamer.overlap', { attributes: { 'gtb.overlap.ms': deps.overlapMs } }, () => sleep(deps.overlapMs, signal));
      old.retiring = true;
      old.socket.close(`rollover: ${trigger}`);
    }
    completed += 1;
    if (!old) return;
    metrics.rollovers.inc({ stream, trigger });
    const from = old.socket.channel.fingerprint;
    const to = next.socket.channel.fingerprint;
    void lifecycle.tryPublish('stream.rolled_over', stream, {
      stream, fromChannelFingerprint: from, toChannelFingerprint: to, trigger, overlapMs: Math.max(0, now() - (next.socket.receivingAt ?? started)),
    });
    log.info({ from, to, trigger, tookMs: now() - started }, 'rolled over');
  }

  /** What the end of a rollover leaves to do: a notice the new socket got meanwhile, a newer token, or no socket at all. */
  function afterwards(): void {
    const again = rollAgain;
    rollAgain = undefined;
    if (signal.aborted) return;
    const noticed = primary?.pendingRollover;
    const current = deps.leaseFingerprint();
    if (noticed && primary) {
      primary.pendingRollover = undefined;
      void roll(noticed);
    } else if (again && current && primary && current !== primary.fingerprint) void roll(again);
    else if (!receiving() && !primary) void roll('reconnect');
  }

  function roll(trigger: string): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    if (rolling) {
      if (TOKEN_TRIGGERS.has(trigger)) rollAgain = trigger;
      return rolling;
    }
    rolling = rollOnce(trigger)
      .catch((err: unknown) => log.error({ err }, 'rollover failed'))
      .finally(() => {
        rolling = undefined;
        afterwards();
      });
    return rolling;
  }

  return {
    roll,
    notice(conn, trigger) {
      if (conn.retiring) return; // a notice on a socket already being replaced is moot
      if (conn === primary && !rolling) {
        void roll(trigger);
        return;
      }
      // The notice came on a rollover's new socket before its promotion, or on the primary while a
      // rollover is under way: remember it, and the rollover's end rolls again if this socket is
      // then in charge (found by the rotation benchmark: a socket_closing that landed on a socket
      // being promoted was lost, and its close became a gap).
      conn.pendingRollover ??= trigger;
    },
    track(conn) {
      if (!signal.aborted) connections.add(conn);
    },
    ended(conn, planned) {
      connections.delete(conn);
      countSockets();
      if (planned || conn.retiring || signal.aborted) return 'planned';
      if (conn === primary) primary = undefined;
      if (!receiving()) return 'uncovered';
      // Another socket (a rollover's new one) delivers: the overlap covers this drop.
      primary ??= [...connections].find(delivering);
      return 'covered';
    },
    primary: () => primary,
    receiving,
    lastHeard() {
      let last: number | undefined;
      for (const c of connections) if (delivering(c)) last = Math.max(last ?? 0, c.socket.lastFrameAt ?? c.socket.receivingAt ?? 0);
      return last;
    },
    count: () => completed,
    async stop() {
      await rolling;
      for (const c of connections) {
        c.retiring = true;
        c.socket.close('stopping');
      }
      connections.clear();
    },
  };
}
