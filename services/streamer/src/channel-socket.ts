import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { redactUri, type Logger } from '@gtb/logger';
import type { Channel } from './channel-api.js';
import type { PendingEvent } from './event-sink.js';
import { parseFrame, type SystemFrame } from './frame.js';

/** What the socket had received before a moment (a gap's lower bound). */
export interface SeenBefore {
  lastSequence?: number;
  lastEventId?: string;
  lastEventAt?: number;
}

/** How a socket ended. `planned` closes were asked for by the streamer (a rollover, a stop). */
export interface SocketEnd {
  code?: number;
  reason: string;
  planned: boolean;
  /** The HTTP status of a refused upgrade (401: Genesys no longer accepts the channel's token). */
  status?: number;
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
  /** Ping this often; a ping not answered before the next is due marks a possible gap. */
  pingIntervalMs: number;
  /** `eventBody` fields holding an event's own time. */
  eventTimeFields?: readonly string[];
  /** Where notification events go as they arrive: the event sink's `push`. */
  push(event: PendingEvent): void;
  /** A `v2.system.*` control frame (closing notice, token revoked, …). */
  onControl(frame: SystemFrame, receivedAt: number): void;
  /** The first frame (a pong to the opening ping, a heartbeat or an event): the socket delivers. */
  onReceiving(at: number): void;
  /**
   * A ping went unanswered: the socket may have heard nothing since `from` (its last frame before
   * that ping). Events may be missing from there, even if frames arrive again.
   */
  onSilent(from: number, before: SeenBefore): void;
  /** After `onSilent`: the socket delivers again from `at` (its first frame after the silence). */
  onHeard(at: number): void;
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
  /** The own time (`eventBody`) of the last event received, where it carried one. */
  readonly lastEventAt: number | undefined;
  /** Between `onSilent` and `onHeard`: not counted as delivering. */
  readonly silent: boolean;
  readonly ended: boolean;
  /** A planned close (1000); the end is reported with `planned: true`. */
  close(reason: string): void;
  /** An unplanned end (watchdog, protocol trouble): terminate without a closing handshake. */
  terminate(reason: string): void;
}

const PING = JSON.stringify({ message: 'ping' });

/**
 * Dials a channel's connectUri (no token on the upgrade: the URI itself is the capability, see
 * docs/genesys-behaviour.md § WebSocket) and watches it. It pings every `pingIntervalMs` whatever
 * arrives; a ping with no pong before the next is due reports `onSilent` from the last frame before
 * it (and `onHeard` at the first frame after, when frames came back without the pong: the stall
 * ended, but what was sent during it is lost). Any frame proves life; after `heartbeatTimeoutMs` +
 * `pongTimeoutMs` without one it terminates, so a half-open socket is replaced within that time.
 */
export function openChannelSocket(options: ChannelSocketOptions): ChannelSocket {
  const { channel, now, heartbeatTimeoutMs, pongTimeoutMs, connectTimeoutMs, pingIntervalMs } = options;
  const connectionId = randomUUID();
  const log = options.logger.child({ channelFingerprint: channel.fingerprint, connectionId });
  const startedAt = now();
  let receivingAt: number | undefined;
  let lastFrameAt: number | undefined;
  let lastSequence: number | undefined;
  let lastEventId: string | undefined;
  let lastEventAt: number | undefined;
  // The ping in flight: when it was sent, the last frame before it, the first frame after it.
  let ping: { at: number; frameBefore: number | undefined; firstAfter: number | undefined; seen: SeenBefore } | undefined;
  let lastPingAt = startedAt;
  let silent = false;
  let ended = false;

  log.debug({ uri: redactUri(channel.connectUri) }, 'dialling channel');
  const ws = new WebSocket(channel.connectUri, { handshakeTimeout: connectTimeoutMs, perMessageDeflate: false });
  const tick = Math.max(25, Math.min(heartbeatTimeoutMs, pongTimeoutMs, pingIntervalMs) / 4);
  const watchdog = setInterval(check, tick);
  watchdog.unref();
  // When the last check ran: a check that comes late (the event loop was blocked: GC, CPU
  // starvation) runs in the timers phase before the loop has read the frames that arrived during
  // the stall, so it would take the process's own pause for the peer's silence. It gives no
  // verdict; the next one, after the loop has read the socket, does (only one in a row is skipped,
  // so a loop that is always late still gets verdicts).
  // Real time (performance.now), not the injected clock: it measures the timer's own lateness.
  let lastCheckAt = performance.now();
  let skippedLate = false;

  function sendPing(t: number): void {
    const seen: SeenBefore = {
      ...(lastSequence === undefined ? {} : { lastSequence }),
      ...(lastEventId === undefined ? {} : { lastEventId }),
      ...(lastEventAt === undefined ? {} : { lastEventAt }),
    };
    ping = { at: t, frameBefore: lastFrameAt, firstAfter: undefined, seen };
    lastPingAt = t;
    send(PING);
  }

  function check(): void {
    if (ended) return;
    const t = now();
    const checkAt = performance.now();
    const late = checkAt - lastCheckAt > 2 * tick + 50;
    lastCheckAt = checkAt;
    if (late && !skippedLate) {
      skippedLate = true;
      return;
    }
    skippedLate = false;
    if (receivingAt === undefined) {
      if (t - startedAt > connectTimeoutMs) finish({ reason: 'no frame after connecting', planned: false }, true);
      return;
    }
    const silentFor = t - (lastFrameAt ?? receivingAt);
    if (silentFor > heartbeatTimeoutMs + pongTimeoutMs) {
      finish({ reason: `no heartbeat or pong for ${silentFor} ms`, planned: false }, true);
      return;
    }
    if (ping && t - ping.at > pingIntervalMs) {
      // Unanswered: whatever was sent since the last frame before it may be lost.
      const lost = ping;
      ping = undefined;
      // The opening ping goes out before any frame (frameBefore undefined): reception starts at the
      // first frame anyway, so nothing can have been missed before it.
      if (!silent && lost.frameBefore !== undefined) {
        silent = true;
        options.onSilent(lost.frameBefore, lost.seen);
      }
      if (silent && lost.firstAfter !== undefined) {
        silent = false;
        options.onHeard(lost.firstAfter);
      }
    }
    if (!ping && (t - lastPingAt >= pingIntervalMs || silentFor > heartbeatTimeoutMs)) sendPing(t);
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

  ws.on('open', () => sendPing(now()));
  ws.on('message', (data, isBinary) => {
    if (ended || isBinary) return;
    const t = now();
    const frame = parseFrame(data.toString(), options.eventTimeFields);
    // Kept as received for the write (a Buffer unless the socket was set to another binaryType).
    const raw = Buffer.isBuffer(data) ? data : undefined;
    lastFrameAt = t;
    if (frame.kind === 'pong') {
      ping = undefined;
    } else if (ping) {
      ping.firstAfter ??= t;
    }
    if (receivingAt === undefined) {
      receivingAt = t;
      options.onReceiving(t);
    }
    // A frame after an unanswered ping: delivering again (a pong alone counts only without a ping in flight).
    if (silent && !ping) {
      silent = false;
      options.onHeard(t);
    }
    if (frame.kind === 'event') {
      if (frame.sequence !== undefined) lastSequence = frame.sequence;
      if (frame.correlationId !== undefined) lastEventId = frame.correlationId;
      if (frame.eventAt !== undefined) lastEventAt = frame.eventAt;
      options.push({
        dedupeId: frame.dedupeId, topic: frame.topic, text: raw ?? frame.text, receivedAt: t, channelFingerprint: channel.fingerprint,
        ...(frame.sequence === undefined ? {} : { sequence: frame.sequence }),
        ...(frame.correlationId === undefined ? {} : { correlationId: frame.correlationId }),
        ...(frame.conversation === undefined ? {} : { conversation: frame.conversation }),
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
    finish({ reason: `upgrade refused with HTTP ${res.statusCode ?? 0}`, planned: false, ...(res.statusCode ? { status: res.statusCode } : {}) }, true);
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
    get lastEventAt() { return lastEventAt; },
    get silent() { return silent; },
    get ended() { return ended; },
    close(reason) { finish({ code: 1000, reason, planned: true }, false); },
    terminate(reason) { finish({ reason, planned: false }, true); },
  };
}
