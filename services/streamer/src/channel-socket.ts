import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { redactUri, type Logger } from '@gtb/logger';
import type { Channel } from './channel-api.js';
import type { PendingEvent } from './event-sink.js';
import { parseFrame, type SystemFrame } from './frame.js';

/** How a socket ended. `planned` closes were asked for by the streamer (a rollover, a stop). */
export interface SocketEnd {
  code?: number;
  reason: string;
  planned: boolean;
}

export interface ChannelSocketOptions {
  channel: Channel;
  now: () => number;
  logger: Logger;
  /** Silence longer than this triggers a `{"message":"ping"}`. */
  heartbeatTimeoutMs: number;
  /** No frame this long after the ping: the socket is half-open and is terminated. */
  pongTimeoutMs: number;
  /** No first frame this long after dialling: give up on this socket. */
  connectTimeoutMs: number;
  /** Where notification events go as they arrive: the event sink's `push`. */
  push(event: PendingEvent): void;
  /** A `v2.system.*` control frame (closing notice, token revoked, …). */
  onControl(frame: SystemFrame, receivedAt: number): void;
  /** The first frame (a pong to the opening ping, a heartbeat or an event): the socket delivers. */
  onReceiving(at: number): void;
  /** Called once, however the socket ended. */
  onEnd(end: SocketEnd): void;
}

/** One WebSocket on one channel, with its watchdog. */
export interface ChannelSocket {
  readonly connectionId: string;
  readonly channel: Channel;
  /** When the first frame arrived (undefined until then). */
  readonly receivingAt: number | undefined;
  /** When the last frame of any kind arrived: the lower bound of a gap if the socket dies now. */
  readonly lastFrameAt: number | undefined;
  readonly lastSequence: number | undefined;
  readonly lastEventId: string | undefined;
  readonly ended: boolean;
  /** A planned close (1000); the end is reported with `planned: true`. */
  close(reason: string): void;
  /** An unplanned end (watchdog, protocol trouble): terminate without a closing handshake. */
  terminate(reason: string): void;
}

const PING = JSON.stringify({ message: 'ping' });

/**
 * Dials a channel's connectUri (no token on the upgrade: the URI itself is the capability, see
 * docs/genesys-behaviour.md § WebSocket) and watches it:
 * any frame proves life; after `heartbeatTimeoutMs` of silence it pings, and after `pongTimeoutMs`
 * more it terminates. A stalled (half-open) socket is thus replaced within
 * heartbeatTimeout + pongTimeout of its last frame.
 */
export function openChannelSocket(options: ChannelSocketOptions): ChannelSocket {
  const { channel, now, heartbeatTimeoutMs, pongTimeoutMs, connectTimeoutMs } = options;
  const connectionId = randomUUID();
  const log = options.logger.child({ channelFingerprint: channel.fingerprint, connectionId });
  const startedAt = now();
  let receivingAt: number | undefined;
  let lastFrameAt: number | undefined;
  let lastSequence: number | undefined;
  let lastEventId: string | undefined;
  let pingSentAt: number | undefined;
  let ended = false;

  log.debug({ uri: redactUri(channel.connectUri) }, 'dialling channel');
  const ws = new WebSocket(channel.connectUri, { handshakeTimeout: connectTimeoutMs, perMessageDeflate: false });
  const tick = Math.max(25, Math.min(heartbeatTimeoutMs, pongTimeoutMs) / 4);
  const watchdog = setInterval(check, tick);
  watchdog.unref();

  function check(): void {
    if (ended) return;
    const t = now();
    if (receivingAt === undefined) {
      if (t - startedAt > connectTimeoutMs) finish({ reason: 'no frame after connecting', planned: false }, true);
      return;
    }
    const silentFor = t - (lastFrameAt ?? receivingAt);
    if (pingSentAt !== undefined && t - pingSentAt > pongTimeoutMs) {
      finish({ reason: `no heartbeat or pong for ${silentFor} ms`, planned: false }, true);
    } else if (pingSentAt === undefined && silentFor > heartbeatTimeoutMs) {
      pingSentAt = t;
      send(PING);
    }
  }

  function send(text: string): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(text, (err) => { if (err) log.debug({ err: err.message }, 'send failed'); });
  }

  function finish(end: SocketEnd, hard: boolean): void {
    if (ended) return;
    ended = true;
    clearInterval(watchdog);
    if (hard) ws.terminate();
    else if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
      ws.close(1000, 'rollover');
      // A peer that never answers the close must not keep the socket (and its timer) alive.
      setTimeout(() => ws.terminate(), 2_000).unref();
    }
    options.onEnd(end);
  }

  ws.on('open', () => send(PING));
  ws.on('message', (data, isBinary) => {
    if (ended || isBinary) return;
    const t = now();
    const frame = parseFrame(data.toString());
    lastFrameAt = t;
    pingSentAt = undefined;
    if (receivingAt === undefined) {
      receivingAt = t;
      options.onReceiving(t);
    }
    if (frame.kind === 'event') {
      if (frame.sequence !== undefined) lastSequence = frame.sequence;
      if (frame.correlationId !== undefined) lastEventId = frame.correlationId;
      options.push({
        dedupeId: frame.dedupeId, topic: frame.topic, text: frame.text, receivedAt: t, channelFingerprint: channel.fingerprint,
        ...(frame.sequence === undefined ? {} : { sequence: frame.sequence }),
        ...(frame.correlationId === undefined ? {} : { correlationId: frame.correlationId }),
      });
    } else if (frame.kind === 'system') {
      options.onControl(frame, t);
    } else if (frame.kind === 'unknown' && frame.result === '404') {
      // The genesys-notifications Python library reads this as channel gone (expired, evicted or
      // token ended): it will deliver no more.
      finish({ reason: 'channel reported 404', planned: false }, true);
    }
  });
  ws.on('error', (err) => log.debug({ err: err.message }, 'socket error'));
  ws.on('unexpected-response', (_req, res) => {
    finish({ reason: `upgrade refused with HTTP ${res.statusCode ?? 0}`, planned: false }, true);
  });
  ws.on('close', (code, reason) => {
    const text = reason.toString().slice(0, 120) || 'closed';
    finish({ code, reason: `closed ${code} ${text}`, planned: false }, false);
  });

  return {
    connectionId,
    channel,
    get receivingAt() { return receivingAt; },
    get lastFrameAt() { return lastFrameAt; },
    get lastSequence() { return lastSequence; },
    get lastEventId() { return lastEventId; },
    get ended() { return ended; },
    close(reason) { finish({ code: 1000, reason, planned: true }, false); },
    terminate(reason) { finish({ reason, planned: false }, true); },
  };
}
