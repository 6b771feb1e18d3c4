import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { fingerprint } from '@gtb/logger';
import { liveChannel } from '../channels.js';
import { bump } from '../counters.js';
import { newUuid } from '../ids.js';
import type { SandboxState, SocketControl } from '../state.js';
import { HEARTBEAT_FRAME, PONG_FRAME, eventFrame, isPingFrame } from './frames.js';

interface Session {
  ws: WebSocket;
  channelId: string;
  heartbeat: NodeJS.Timeout;
  reorder: { topicName: string; text: string }[];
  reorderTimer: NodeJS.Timeout | undefined;
  delivered: number;
  openedAt: number;
}

const CHANNEL_PATH = /^\/channels\/([A-Za-z0-9-]{1,100})\/?$/;
// A partial reorder window is flushed after this long, so that no event waits forever.
const REORDER_FLUSH_MS = 200;
// A socket that has not finished its closing handshake by then is destroyed.
const CLOSE_GRACE_MS = 2_000;

/**
 * The streaming side: upgrades on `/channels/<id>` (no token, the channel id is the capability),
 * one socket per channel, heartbeats, ping → pong, delivery with injected faults, planned closes.
 * Unknown or expired channels get the upgrade refused with HTTP 404 (the client sees an
 * `unexpected-response`), a choice documented in the README as upstream is unverified here.
 */
export class SocketHub implements SocketControl {
  readonly #state: SandboxState;
  readonly #wss = new WebSocketServer({ noServer: true, autoPong: false, maxPayload: 64 * 1024 });
  readonly #sessions = new Map<string, Session>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(state: SandboxState) {
    this.#state = state;
  }

  /** Handles WebSocket upgrades on the given HTTP server. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
  }

  get closed(): boolean {
    return this.#closed;
  }

  isConnected(channelId: string): boolean {
    return this.#sessions.has(channelId);
  }

  socketInfo(channelId: string): { openedAt: number; eventsSent: number } | undefined {
    const session = this.#sessions.get(channelId);
    return session && { openedAt: session.openedAt, eventsSent: session.delivered };
  }

  connectedChannelIds(): string[] {
    return [...this.#sessions.keys()];
  }

  closeNow(channelId: string, code: number, reason: string): void {
    const session = this.#sessions.get(channelId);
    if (!session) return;
    this.#detach(session);
    session.ws.close(code, reason);
    this.#later(CLOSE_GRACE_MS, () => session.ws.terminate());
  }

  sendSystem(channelId: string, topicName: string, eventBody: Record<string, unknown>): void {
    const session = this.#sessions.get(channelId);
    if (!session || this.#stalled(channelId)) return;
    const frame = eventFrame(topicName, eventBody, newUuid(this.#state.options.randomBytes));
    session.ws.send(JSON.stringify(frame));
  }

  /** A planned close: `v2.system.socket_closing` first (unless `notice` is false), then a 1001 close. */
  planClose(channelId: string, notice: boolean): boolean {
    if (!this.#sessions.has(channelId)) return false;
    const doClose = () => this.closeNow(channelId, 1001, 'Socket closing');
    if (!notice) {
      doClose();
      return true;
    }
    this.sendSystem(channelId, 'v2.system.socket_closing', {
      channelId,
      message: 'This socket will close shortly; reconnect to the same connectUri',
    });
    const session = this.#sessions.get(channelId);
    this.#later(this.#state.options.socketClosingNoticeMs, () => {
      // Only the socket that was warned; a newer one on the same channel stays.
      if (this.#sessions.get(channelId) === session) doClose();
    });
    return true;
  }

  /** The `drop` fault: destroys sockets without a close frame. Returns how many. */
  drop(channelId?: string): number {
    let n = 0;
    for (const session of [...this.#sessions.values()]) {
      if (channelId !== undefined && session.channelId !== channelId) continue;
      this.#detach(session);
      session.ws.terminate();
      n += 1;
    }
    return n;
  }

  /** Writes an event (its frame serialized once for every channel) to a channel's socket through the stall, reorder and duplicate faults. */
  deliver(channelId: string, topicName: string, text: string): void {
    const session = this.#sessions.get(channelId);
    if (!session) return;
    const { faults, counters } = this.#state;
    if (this.#stalled(channelId)) {
      bump(counters.eventsDroppedByChannel, channelId);
      return;
    }
    const reorder = faults.peek('reorder', (f) => f.channelId === undefined || f.channelId === channelId);
    if (!reorder) {
      this.#flushReorder(session);
      this.#write(session, topicName, text);
      return;
    }
    session.reorder.push({ topicName, text });
    if (session.reorder.length >= reorder.window) this.#flushReorder(session);
    else session.reorderTimer ??= this.#later(REORDER_FLUSH_MS, () => this.#flushReorder(session));
  }

  /** Closes sockets whose token expired, when configured to. */
  sweepTokens(): void {
    if (!this.#state.options.closeSocketOnTokenExpiry) return;
    const now = this.#state.options.now();
    for (const channelId of this.#sessions.keys()) {
      const channel = this.#state.channels.get(channelId);
      const token = channel && this.#state.tokens.get(channel.token);
      if (!token || token.expiresAt <= now) this.closeNow(channelId, 1000, 'Token expired or invalid');
    }
  }

  /** Terminates every socket and stops every timer. */
  async close(): Promise<void> {
    this.#closed = true;
    this.drop();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0] ?? '';
    const match = CHANNEL_PATH.exec(path);
    const channel = match && !this.#closed ? liveChannel(this.#state, match[1]!) : undefined;
    if (!channel) {
      const body = JSON.stringify({ message: 'channel not found', code: 'not.found', status: 404 });
      socket.end(`HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, channel.id));
  }

  #onConnection(ws: WebSocket, channelId: string): void {
    const state = this.#state;
    const channel = state.channels.get(channelId);
    if (!channel || this.#closed) {
      ws.close(1000, 'Channel expired');
      return;
    }
    // One socket per channel: the newer one wins, as documented upstream.
    this.closeNow(channelId, 1000, 'Another WebSocket connected to this channel');
    const session: Session = {
      ws,
      channelId,
      heartbeat: setInterval(() => this.#heartbeat(session), state.options.heartbeatIntervalMs).unref(),
      reorder: [],
      reorderTimer: undefined,
      delivered: 0,
      openedAt: state.options.now(),
    };
    this.#sessions.set(channelId, session);
    channel.lastUsedAt = state.options.now();
    channel.socketsOpened += 1;
    state.counters.socketsOpened += 1;
    state.options.logger.info({ channel: fingerprint(channelId) }, 'socket opened');
    ws.on('message', (data, isBinary) => {
      if (!isBinary && isPingFrame(data.toString()) && !this.#stalled(channelId)) ws.send(PONG_FRAME);
    });
    ws.on('ping', (data) => {
      if (!this.#stalled(channelId)) ws.pong(data);
    });
    ws.on('error', (err) => state.options.logger.debug({ err: err.message, channel: fingerprint(channelId) }, 'socket error'));
    const counters = state.counters;
    ws.on('close', (code) => {
      this.#detach(session);
      // A socket opened before reset() is not counted in the counters that reset() started afresh.
      if (state.counters === counters) counters.socketsClosed += 1;
      state.options.logger.info({ channel: fingerprint(channelId), code }, 'socket closed');
    });
  }

  #heartbeat(session: Session): void {
    if (this.#stalled(session.channelId) || session.ws.readyState !== session.ws.OPEN) return;
    session.ws.send(HEARTBEAT_FRAME);
    this.#state.counters.heartbeatsSent += 1;
  }

  #write(session: Session, topicName: string, text: string): void {
    if (session.ws.readyState !== session.ws.OPEN) return;
    const { counters, faults, options } = this.#state;
    session.delivered += 1;
    const dup = faults.peek('duplicate', (f) => f.channelId === undefined || f.channelId === session.channelId);
    const times = dup && ((dup.every !== undefined && session.delivered % dup.every === 0)
      || (dup.probability !== undefined && options.random() < dup.probability)) ? 2 : 1;
    for (let i = 0; i < times; i++) {
      session.ws.send(text);
      bump(counters.eventsSentByChannel, session.channelId);
      bump(counters.eventsSentByTopic, topicName);
    }
    if (times === 2) counters.eventsDuplicated += 1;
  }

  #flushReorder(session: Session): void {
    if (session.reorderTimer) {
      clearTimeout(session.reorderTimer);
      this.#timers.delete(session.reorderTimer);
      session.reorderTimer = undefined;
    }
    const batch = session.reorder.reverse();
    session.reorder = [];
    for (const { topicName, text } of batch) this.#write(session, topicName, text);
  }

  #stalled(channelId: string): boolean {
    return this.#state.faults.peek('stall', (f) => f.channelId === undefined || f.channelId === channelId) !== undefined;
  }

  #detach(session: Session): void {
    clearInterval(session.heartbeat);
    if (session.reorderTimer) clearTimeout(session.reorderTimer);
    if (this.#sessions.get(session.channelId) === session) this.#sessions.delete(session.channelId);
  }

  #later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms).unref();
    this.#timers.add(t);
    return t;
  }
}
