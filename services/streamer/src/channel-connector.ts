import type { BrokerToken } from '@gtb/client';
import { GtbError } from '@gtb/errors';
import type { EventPublisher } from '@gtb/events';
import type { GenesysApi } from '@gtb/genesys';
import { redactUri, type Logger } from '@gtb/logger';
import { annotateActiveSpan, failSpan, inSpan, startSpan, tracerOf } from '@gtb/tracing';
import { createChannel, subscribe } from './channel-api.js';
import { openChannelSocket, type ChannelSocket, type SeenBefore, type SocketEnd } from './channel-socket.js';
import type { StreamConfig, TimingConfig } from './config.js';
import type { PendingEvent } from './event-sink.js';
import type { SystemFrame } from './frame.js';
import type { StreamerMetrics } from './metrics.js';

const tracer = tracerOf('gtb.streamer');

/** A socket the worker owns, with what it was made from. */
export interface Connection {
  socket: ChannelSocket;
  /** Fingerprint of the token that created the channel. */
  fingerprint: string;
  tokenExpiresAt: number;
  /** Being closed on purpose (replaced by a newer connection). */
  retiring: boolean;
  /**
   * A system notice (`socket_closing`, `token_revoked`, …) that asks for a rollover, received while
   * this connection was not yet in charge: the rollover that promotes it must then roll once more.
   */
  pendingRollover?: string | undefined;
}

export interface ConnectorDeps {
  stream: StreamConfig;
  timing: TimingConfig;
  /** `eventBody` fields holding an event's own time (gap bounds). */
  eventTimeFields: readonly string[];
  api: (apiBaseUrl: string) => GenesysApi;
  /** Lifecycle events (`stream.*`), not to be confused with the notifications, which go to `push`. */
  lifecycle: EventPublisher;
  /** The event sink's `push`: notification events go from the socket straight to it. */
  push(event: PendingEvent): void;
  metrics: StreamerMetrics;
  logger: Logger;
  now: () => number;
}

/** What the worker hears of a socket: control frames and its life, never the notifications. */
export interface ConnectHandlers {
  onControl(conn: Connection, frame: SystemFrame, receivedAt: number): void;
  onReceiving(conn: Connection, at: number): void;
  /** A ping on `conn` went unanswered: it may have heard nothing since `from`. */
  onSilent(conn: Connection, from: number, seen: SeenBefore): void;
  /** `conn` delivers again after a silence. */
  onHeard(conn: Connection, at: number): void;
  onEnd(conn: Connection, end: SocketEnd): void;
}

/**
 * Lease token → channel → subscriptions → socket, resolving once the socket receives (its first
 * frame: the pong to the opening ping, a heartbeat or an event). Rejected topics are logged,
 * counted and announced; unless the stream allows it, the channel is abandoned with
 * ERR_TOPICS_REJECTED rather than run silently on fewer topics than asked.
 */
export function connectChannel(deps: ConnectorDeps, lease: BrokerToken, handlers: ConnectHandlers): Promise<Connection> {
  // Spans name the channel and the token by fingerprint only: a channel id is a capability.
  return inSpan(tracer, 'gtb.streamer.connect', { attributes: { 'gtb.stream': deps.stream.name, 'gtb.profile': deps.stream.profile, 'gtb.token.fingerprint': lease.fingerprint } }, () => connectTraced(deps, lease, handlers));
}

async function connectTraced(deps: ConnectorDeps, lease: BrokerToken, handlers: ConnectHandlers): Promise<Connection> {
  const { stream, timing, lifecycle, metrics, now } = deps;
  const api = deps.api(lease.apiBaseUrl);
  void lifecycle.tryPublish('stream.handshake_initiated', stream.name, { stream: stream.name, profile: stream.profile });
  const channel = await inSpan(tracer, 'gtb.streamer.channel_create', {}, async (span) => {
    const created = await createChannel(api, lease.accessToken, now());
    span.setAttribute('gtb.channel.fingerprint', created.fingerprint);
    return created;
  });
  annotateActiveSpan({ 'gtb.channel.fingerprint': channel.fingerprint });
  const log = deps.logger.child({ channelFingerprint: channel.fingerprint });
  const result = await inSpan(tracer, 'gtb.streamer.subscribe', { attributes: { 'gtb.channel.fingerprint': channel.fingerprint, 'gtb.topics.requested': stream.topics.length } }, async (span) => {
    const answer = await subscribe(api, lease.accessToken, channel.id, stream.topics, now());
    span.setAttributes({ 'gtb.topics.accepted': answer.accepted.length, 'gtb.topics.rejected': answer.rejected.length });
    return answer;
  });
  if (result.rejected.length > 0) {
    metrics.topicsRejected.inc({ stream: stream.name }, result.rejected.length);
    log.error({ rejected: result.rejected, accepted: result.accepted.length, allowPartial: stream.allowPartialTopics }, 'Genesys rejected topics of this stream');
    const summary = `${result.rejected.length} topic(s) rejected: ${result.rejected.map((r) => r.topic).join(', ')}`.slice(0, 200);
    if (!stream.allowPartialTopics || result.accepted.length === 0) {
      void lifecycle.tryPublish('stream.dropped', stream.name, { stream: stream.name, channelFingerprint: channel.fingerprint, reason: summary, planned: false });
      throw new GtbError('ERR_TOPICS_REJECTED', summary, { details: { rejected: result.rejected } });
    }
  }
  log.info({ uri: redactUri(channel.connectUri), expires: new Date(channel.expiresAt).toISOString(), fingerprint: lease.fingerprint }, 'channel subscribed; connecting');

  // From the dial to the first frame (the socket's own HTTP upgrade span is its child).
  const dialing = startSpan(tracer, 'gtb.streamer.socket_connect', { attributes: { 'gtb.channel.fingerprint': channel.fingerprint } });
  return new Promise<Connection>((resolve, reject) => {
    let settled = false;
    const conn: Connection = {
      fingerprint: lease.fingerprint,
      tokenExpiresAt: lease.expiresAt,
      retiring: false,
      socket: openChannelSocket({
        channel,
        now,
        logger: deps.logger,
        heartbeatTimeoutMs: timing.heartbeatTimeoutMs,
        pongTimeoutMs: timing.pongTimeoutMs,
        connectTimeoutMs: timing.connectTimeoutMs,
        pingIntervalMs: timing.pingIntervalMs,
        eventTimeFields: deps.eventTimeFields,
        push: deps.push,
        onSilent: (from, seen) => handlers.onSilent(conn, from, seen),
        onHeard: (at) => handlers.onHeard(conn, at),
        onControl: (frame, at) => handlers.onControl(conn, frame, at),
        onReceiving: (at) => {
          handlers.onReceiving(conn, at);
          if (!settled) dialing.end();
          settled = true;
          resolve(conn);
        },
        onEnd: (end) => {
          if (!settled) {
            settled = true;
            const err = new GtbError('ERR_STREAM_CONNECT_FAILED', 'socket ended before receiving');
            failSpan(dialing, err);
            dialing.end();
            // A 401 on the upgrade names the token as the cause: the worker reports it, not just retries.
            reject(new GtbError('ERR_STREAM_CONNECT_FAILED', `socket ended before receiving: ${end.reason}`, end.status ? { details: { upstreamStatus: end.status } } : {}));
            return;
          }
          handlers.onEnd(conn, end);
        },
      }),
    };
  });
}
