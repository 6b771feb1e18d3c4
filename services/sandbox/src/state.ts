import { createCounters, type Counters } from './counters.js';
import { FaultRegistry } from './faults.js';
import type { ResolvedOptions } from './options.js';
import { RateWindow } from './rate-window.js';
import { createWorld, type World } from './model/world.js';

/** An OAuth client (client-credentials grant). */
export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  name: string;
  tokenLifetimeSeconds: number;
  allowedTopics: string[];
  createdAt: number;
  /** Created from the start options, so `reset()` keeps it. */
  seeded: boolean;
}

/** An issued access token. */
export interface AccessToken {
  token: string;
  clientId: string;
  issuedAt: number;
  expiresAt: number;
  revoked: boolean;
}

/** A notification channel. */
export interface Channel {
  id: string;
  clientId: string;
  /** The token that created it: channels belong to a token, and to its client for the cap. */
  token: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  /** Subscriptions in insertion order. */
  topics: Set<string>;
  /** Sockets ever connected to this channel (the admin API reports it). */
  socketsOpened: number;
}

/** What the REST side needs from the WebSocket side; implemented by the socket hub. */
export interface SocketControl {
  /** True when a socket is connected to the channel. */
  isConnected(channelId: string): boolean;
  /** Closes the channel's socket (if any) with a close frame. */
  closeNow(channelId: string, code: number, reason: string): void;
  /** The channel's open socket, if any: when it opened and how many event frames it was sent. */
  socketInfo(channelId: string): { openedAt: number; eventsSent: number } | undefined;
  /** Sends a `v2.system.*` message to the channel's socket, if connected. */
  sendSystem(channelId: string, topicName: string, eventBody: Record<string, unknown>): void;
}

/** The sandbox's whole mutable state: one object, so that `reset()` is simple and complete. */
export interface SandboxState {
  options: ResolvedOptions;
  clients: Map<string, OAuthClient>;
  tokens: Map<string, AccessToken>;
  channels: Map<string, Channel>;
  /** Last sequence number per topic. */
  sequences: Map<string, number>;
  /** Users, queues and conversations behind the modelled topics and the REST snapshots. */
  world: World;
  counters: Counters;
  faults: FaultRegistry;
  tokenWindow: RateWindow;
  apiWindow: RateWindow;
  sockets: SocketControl;
  /** Every channel id handed out since the start (or reset), kept after the channel is gone: tests scan for them. */
  issuedChannelIds: Set<string>;
  /** The port the server listens on, once known (for `connectUri`). */
  publicBase: { host: string; port: number };
}

const NO_SOCKETS: SocketControl = {
  isConnected: () => false,
  closeNow: () => undefined,
  socketInfo: () => undefined,
  sendSystem: () => undefined,
};

/** A fresh, empty state for the given options. */
export function createState(options: ResolvedOptions): SandboxState {
  return {
    options,
    clients: new Map(),
    tokens: new Map(),
    channels: new Map(),
    sequences: new Map(),
    world: createWorld(),
    counters: createCounters(),
    faults: new FaultRegistry(),
    tokenWindow: new RateWindow(options.tokenRateLimitPerMinute, options.now),
    apiWindow: new RateWindow(options.apiRateLimitPerMinute, options.now),
    sockets: NO_SOCKETS,
    issuedChannelIds: new Set(),
    publicBase: { host: options.host, port: options.port },
  };
}
