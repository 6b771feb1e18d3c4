import { GtbError } from '@gtb/errors';
import { fingerprint } from '@gtb/logger';
import { connectUri, expireChannels, liveChannel, removeChannel } from './channels.js';
import { createClient } from './clients.js';
import { createCounters, type Counters } from './counters.js';
import { clearWorld } from './model/world.js';
import { generateEvents, type GenerateEventsRequest, type GenerateEventsResult } from './event-generator.js';
import type { Fault } from './faults.js';
import type { ClientSpec } from './options.js';
import type { Channel, SandboxState } from './state.js';
import type { SocketHub } from './streaming/socket-hub.js';
import { revokeClientTokens, revokeToken } from './tokens.js';

/** Test and operator controls; the HTTP admin API under `/__sandbox` calls the same operations. */
export interface SandboxAdmin {
  /** Creates an OAuth client and returns its credentials. */
  createClient(spec?: ClientSpec): { clientId: string; clientSecret: string };
  /** Generates events with per-topic sequence numbers (see `GenerateEventsRequest`). */
  generateEvents(req: GenerateEventsRequest): Promise<GenerateEventsResult>;
  /** Injects a fault; `drop` acts at once on open sockets. Returns the fault id (0 for `drop`) and, for drop, how many sockets it hit. */
  injectFault(fault: Fault): { id: number; dropped?: number };
  /** Removes every fault (stalled sockets resume, reorder buffers flush within 200 ms). */
  clearFaults(): void;
  /** A snapshot of the counters. */
  counters(): Counters;
  /** Expires a channel now: its socket closes 1000 "Channel expired" and the id is gone. */
  expireChannel(channelId: string): void;
  /** A planned close of a channel's socket, with or without `v2.system.socket_closing` first. */
  closeSocket(channelId: string, options?: { notice?: boolean }): void;
  /** Revokes one token (by value) or every token of a client; returns how many were revoked. */
  revokeToken(target: string | { clientId: string }): number;
  /** Ids of channels with an open socket. */
  connectedChannels(): string[];
  /**
   * Every live channel (expired and removed ones are gone), oldest first, with its subscriptions
   * and its socket; `clientId` narrows to one OAuth client. Channel ids are capabilities: this
   * view exists only in process and on the admin-key-protected admin API.
   */
  listChannels(filter?: { clientId?: string }): ChannelAdminView[];
  /** One live channel, as in `listChannels`; ERR_NOT_FOUND when unknown or expired. */
  getChannel(channelId: string): ChannelAdminView;
  /**
   * Every secret the sandbox has handed out since the start (or reset): access tokens (revoked and
   * expired included), client secrets, channel ids and their connect URIs. In process only (no HTTP
   * route), for tests that scan logs and Redis for leaks.
   */
  issuedSecrets(): { accessTokens: string[]; clientSecrets: string[]; channelIds: string[]; connectUris: string[] };
  /** Forgets tokens, channels, faults, counters and sequences; keeps only the clients from the start options. */
  reset(): void;
}

/** A channel as the admin API shows it. */
export interface ChannelAdminView {
  id: string;
  clientId: string;
  /** `fingerprint()` of the token that created it. */
  tokenFingerprint: string;
  createdAt: string;
  lastUsedAt: string;
  expires: string;
  topics: string[];
  /** The open socket, or null when none is connected. */
  socket: { openedAt: string; eventsSent: number } | null;
  /** Sockets ever connected to the channel. */
  socketsOpened: number;
}

function channelAdminView(state: SandboxState, channel: Channel): ChannelAdminView {
  const socket = state.sockets.socketInfo(channel.id);
  return {
    id: channel.id,
    clientId: channel.clientId,
    tokenFingerprint: fingerprint(channel.token),
    createdAt: new Date(channel.createdAt).toISOString(),
    lastUsedAt: new Date(channel.lastUsedAt).toISOString(),
    expires: new Date(channel.expiresAt).toISOString(),
    topics: [...channel.topics],
    socket: socket ? { openedAt: new Date(socket.openedAt).toISOString(), eventsSent: socket.eventsSent } : null,
    socketsOpened: channel.socketsOpened,
  };
}

/** Builds the admin operations over a state and its socket hub. */
export function createAdmin(state: SandboxState, hub: SocketHub): SandboxAdmin {
  return {
    createClient(spec = {}) {
      const client = createClient(state, spec);
      state.options.logger.info({ clientId: client.clientId }, 'client created');
      return { clientId: client.clientId, clientSecret: client.clientSecret };
    },
    generateEvents: (req) => generateEvents(state, hub, req),
    injectFault(fault) {
      const { faults, options } = state;
      if (fault?.type === 'drop') {
        if (fault.channelId !== undefined && typeof fault.channelId !== 'string') throw new GtbError('ERR_VALIDATION', 'invalid fault: channelId must be a string');
        const dropped = hub.drop(fault.channelId);
        options.logger.info({ fault: fault.type, dropped }, 'fault applied');
        return { id: 0, dropped };
      }
      const id = faults.add(fault);
      options.logger.info({ fault: fault.type, id }, 'fault injected');
      return { id };
    },
    clearFaults() {
      state.faults.clear();
      state.options.logger.info('faults cleared');
    },
    counters: () => structuredClone(state.counters),
    expireChannel(channelId) {
      const channel = state.channels.get(channelId);
      if (!channel) throw new GtbError('ERR_NOT_FOUND', 'unknown channel');
      channel.expiresAt = state.options.now();
      expireChannels(state);
    },
    closeSocket(channelId, options = {}) {
      if (!state.channels.has(channelId)) throw new GtbError('ERR_NOT_FOUND', 'unknown channel');
      if (!hub.planClose(channelId, options.notice ?? true)) throw new GtbError('ERR_NOT_FOUND', 'no socket connected to this channel');
    },
    revokeToken(target) {
      if (typeof target === 'string') {
        const token = state.tokens.get(target);
        if (!token) throw new GtbError('ERR_NOT_FOUND', 'unknown token');
        const was = token.revoked;
        revokeToken(state, token);
        return was ? 0 : 1;
      }
      if (target === null || typeof target !== 'object' || typeof target.clientId !== 'string') {
        throw new GtbError('ERR_VALIDATION', 'revokeToken needs a token or {clientId}');
      }
      return revokeClientTokens(state, target.clientId);
    },
    connectedChannels: () => hub.connectedChannelIds(),
    listChannels(filter = {}) {
      if (filter.clientId !== undefined && typeof filter.clientId !== 'string') throw new GtbError('ERR_VALIDATION', 'clientId must be a string');
      const now = state.options.now();
      return [...state.channels.values()]
        .filter((c) => c.expiresAt > now && (filter.clientId === undefined || c.clientId === filter.clientId))
        .sort((a, b) => a.createdAt - b.createdAt)
        .map((c) => channelAdminView(state, c));
    },
    getChannel(channelId) {
      const channel = liveChannel(state, channelId);
      if (!channel) throw new GtbError('ERR_NOT_FOUND', 'unknown channel');
      return channelAdminView(state, channel);
    },
    issuedSecrets: () => {
      const channelIds = [...state.issuedChannelIds];
      return {
        accessTokens: [...state.tokens.keys()],
        clientSecrets: [...state.clients.values()].map((c) => c.clientSecret),
        channelIds,
        connectUris: channelIds.map((id) => connectUri(state, id)),
      };
    },
    reset() {
      for (const id of [...state.channels.keys()]) {
        state.sockets.closeNow(id, 1000, 'Sandbox reset');
        removeChannel(state, id);
      }
      hub.drop();
      state.tokens.clear();
      state.issuedChannelIds.clear();
      state.sequences.clear();
      clearWorld(state.world);
      state.faults.clear();
      state.tokenWindow.clear();
      state.apiWindow.clear();
      state.counters = createCounters();
      for (const [id, client] of state.clients) if (!client.seeded) state.clients.delete(id);
      state.options.logger.info('sandbox reset');
    },
  };
}
