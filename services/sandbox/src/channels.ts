import { newChannelId } from './ids.js';
import type { AccessToken, Channel, SandboxState } from './state.js';

/** Genesys' documented channel cap per OAuth client, the default of `maxChannelsPerClient`. */
export const MAX_CHANNELS_PER_CLIENT = 20;

/** The wire form of a channel. */
export interface ChannelView {
  connectUri: string;
  id: string;
  expires: string;
}

/** The WebSocket URI of a channel: same origin as the API, as the sandbox is one server. */
export function connectUri(state: SandboxState, channelId: string): string {
  const { host, port } = state.publicBase;
  return `ws://${host.includes(':') ? `[${host}]` : host}:${port}/channels/${channelId}`;
}

/** The wire form of a channel. */
export function channelView(state: SandboxState, channel: Channel): ChannelView {
  return { connectUri: connectUri(state, channel.id), id: channel.id, expires: new Date(channel.expiresAt).toISOString() };
}

/**
 * Creates a channel for the token's client. At the cap (`maxChannelsPerClient`, 20), the 21st
 * removes the channel with the oldest last use, unconnected ones first (the documented rule: the
 * creation itself never fails), closing that channel's socket if it had one.
 */
export function createChannel(state: SandboxState, token: AccessToken): Channel {
  const now = state.options.now();
  const own = [...state.channels.values()].filter((c) => c.clientId === token.clientId);
  if (own.length >= state.options.maxChannelsPerClient) {
    own.sort((a, b) => {
      const ca = state.sockets.isConnected(a.id) ? 1 : 0;
      const cb = state.sockets.isConnected(b.id) ? 1 : 0;
      return ca - cb || a.lastUsedAt - b.lastUsedAt;
    });
    const victim = own[0]!;
    state.sockets.closeNow(victim.id, 1000, 'Channel removed');
    removeChannel(state, victim.id);
    state.counters.channelsEvicted += 1;
  }
  let id = newChannelId(state.options.randomBytes);
  while (state.channels.has(id)) id = newChannelId(state.options.randomBytes);
  const channel: Channel = {
    id,
    clientId: token.clientId,
    token: token.token,
    createdAt: now,
    lastUsedAt: now,
    expiresAt: now + state.options.channelLifetimeMs,
    topics: new Set(),
    socketsOpened: 0,
  };
  state.channels.set(id, channel);
  state.issuedChannelIds.add(id);
  state.counters.channelsCreated += 1;
  return channel;
}

/** Forgets a channel (its socket, if any, must be closed by the caller). */
export function removeChannel(state: SandboxState, channelId: string): boolean {
  return state.channels.delete(channelId);
}

/** A live channel by id, or undefined when unknown or past its expiry. */
export function liveChannel(state: SandboxState, channelId: string): Channel | undefined {
  const channel = state.channels.get(channelId);
  if (!channel || channel.expiresAt <= state.options.now()) return undefined;
  return channel;
}

/** A live channel that belongs to the client, or undefined (which the API reports as 404). */
export function ownChannel(state: SandboxState, clientId: string, channelId: string): Channel | undefined {
  const channel = liveChannel(state, channelId);
  return channel && channel.clientId === clientId ? channel : undefined;
}

/** Closes and removes every channel past its expiry; returns how many. */
export function expireChannels(state: SandboxState): number {
  const now = state.options.now();
  let n = 0;
  for (const channel of [...state.channels.values()]) {
    if (channel.expiresAt > now) continue;
    state.sockets.closeNow(channel.id, 1000, 'Channel expired');
    removeChannel(state, channel.id);
    state.counters.channelsExpired += 1;
    n += 1;
  }
  return n;
}
