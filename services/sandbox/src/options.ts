import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { GtbError } from '@gtb/errors';
import { createLogger, type Logger } from '@gtb/logger';

/** An OAuth client to create when the sandbox starts (and to restore on `reset()`). */
export interface ClientSpec {
  clientId?: string;
  clientSecret?: string;
  /** Access token lifetime for this client, 300..172800 s (Genesys' `accessTokenValiditySeconds`). */
  tokenLifetimeSeconds?: number;
  /** Topic patterns this client may subscribe to; `*` matches any run of characters. Default `['*']`. */
  allowedTopics?: string[];
  name?: string;
}

/** Everything the sandbox can be told; every field is optional. */
export interface SandboxOptions {
  host?: string;
  port?: number;
  /** Enables the `/__sandbox` admin API, guarded by the `x-sandbox-key` header. */
  adminKey?: string;
  defaultTokenLifetimeSeconds?: number;
  /**
   * Shortest token lifetime a client may have [300, as Genesys]. Tests lower it (down to 1) to
   * watch many rotations in seconds; nothing upstream allows less than 300.
   */
  minTokenLifetimeSeconds?: number;
  tokenRateLimitPerMinute?: number;
  apiRateLimitPerMinute?: number;
  heartbeatIntervalMs?: number;
  socketClosingNoticeMs?: number;
  channelLifetimeMs?: number;
  /**
   * Channels one OAuth client may hold [20, documented]. Creating one more removes the client's
   * channel with the oldest last use, unconnected channels first (documented), closing its socket.
   */
  maxChannelsPerClient?: number;
  /** Topics one channel may subscribe [1000, documented]; a subscribe beyond it is refused with 400 (documented). */
  maxTopicsPerChannel?: number;
  resubscribeExtendsChannel?: boolean;
  closeSocketOnTokenExpiry?: boolean;
  closeSocketOnTokenRevoked?: boolean;
  sendTokenRevokedNotice?: boolean;
  /** HTTP status for `invalid_client` at `/oauth/token` (unverified upstream) [401]. */
  invalidClientStatus?: 400 | 401;
  /** How often expiry (channels, tokens under open sockets) is checked, in real ms [1000]. */
  sweepIntervalMs?: number;
  /** Clients to create at start and to restore on `reset()`. */
  clients?: ClientSpec[];
  now?: () => number;
  /** Random bytes seam (tokens, ids, secrets). */
  randomBytes?: (size: number) => Buffer;
  /** Uniform [0,1) seam for the `duplicate` fault's probability. */
  random?: () => number;
  logger?: Logger;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  host: string;
  port: number;
  adminKey: string | undefined;
  defaultTokenLifetimeSeconds: number;
  minTokenLifetimeSeconds: number;
  tokenRateLimitPerMinute: number;
  apiRateLimitPerMinute: number;
  heartbeatIntervalMs: number;
  socketClosingNoticeMs: number;
  channelLifetimeMs: number;
  maxChannelsPerClient: number;
  maxTopicsPerChannel: number;
  resubscribeExtendsChannel: boolean;
  closeSocketOnTokenExpiry: boolean;
  closeSocketOnTokenRevoked: boolean;
  sendTokenRevokedNotice: boolean;
  invalidClientStatus: 400 | 401;
  sweepIntervalMs: number;
  clients: ClientSpec[];
  now: () => number;
  randomBytes: (size: number) => Buffer;
  random: () => number;
  logger: Logger;
}

export const MIN_TOKEN_LIFETIME_S = 300;
export const MAX_TOKEN_LIFETIME_S = 172_800;

/** Applies defaults and rejects bad values with ERR_CONFIG_INVALID naming the option. */
export function resolveOptions(options: SandboxOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    adminKey: options.adminKey === '' ? undefined : options.adminKey,
    defaultTokenLifetimeSeconds: options.defaultTokenLifetimeSeconds ?? 86_400,
    minTokenLifetimeSeconds: options.minTokenLifetimeSeconds ?? MIN_TOKEN_LIFETIME_S,
    tokenRateLimitPerMinute: options.tokenRateLimitPerMinute ?? 300,
    apiRateLimitPerMinute: options.apiRateLimitPerMinute ?? 300,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 30_000,
    socketClosingNoticeMs: options.socketClosingNoticeMs ?? 60_000,
    channelLifetimeMs: options.channelLifetimeMs ?? 24 * 3_600_000,
    maxChannelsPerClient: options.maxChannelsPerClient ?? 20,
    maxTopicsPerChannel: options.maxTopicsPerChannel ?? 1000,
    resubscribeExtendsChannel: options.resubscribeExtendsChannel ?? true,
    closeSocketOnTokenExpiry: options.closeSocketOnTokenExpiry ?? false,
    closeSocketOnTokenRevoked: options.closeSocketOnTokenRevoked ?? true,
    sendTokenRevokedNotice: options.sendTokenRevokedNotice ?? true,
    invalidClientStatus: options.invalidClientStatus ?? 401,
    sweepIntervalMs: options.sweepIntervalMs ?? 1_000,
    clients: options.clients ?? [],
    now: options.now ?? Date.now,
    randomBytes: options.randomBytes ?? cryptoRandomBytes,
    random: options.random ?? Math.random,
    logger: options.logger ?? createLogger({ name: 'sandbox', level: 'silent' }),
  };
  const min = resolved.minTokenLifetimeSeconds;
  check(Number.isInteger(min) && min >= 1 && min <= MIN_TOKEN_LIFETIME_S, 'minTokenLifetimeSeconds', `an integer in 1..${MIN_TOKEN_LIFETIME_S}`);
  const lifetime = resolved.defaultTokenLifetimeSeconds;
  check(Number.isInteger(lifetime) && lifetime >= min && lifetime <= MAX_TOKEN_LIFETIME_S,
    'defaultTokenLifetimeSeconds', `an integer in ${min}..${MAX_TOKEN_LIFETIME_S}`);
  check(Number.isInteger(resolved.port) && resolved.port >= 0 && resolved.port <= 65_535, 'port', 'an integer in 0..65535');
  for (const name of ['tokenRateLimitPerMinute', 'apiRateLimitPerMinute', 'heartbeatIntervalMs', 'channelLifetimeMs', 'sweepIntervalMs'] as const) {
    check(Number.isFinite(resolved[name]) && resolved[name] > 0, name, 'a positive number');
  }
  for (const name of ['maxChannelsPerClient', 'maxTopicsPerChannel'] as const) {
    check(Number.isInteger(resolved[name]) && resolved[name] >= 1 && resolved[name] <= 100_000, name, 'an integer in 1..100000');
  }
  check(Number.isFinite(resolved.socketClosingNoticeMs) && resolved.socketClosingNoticeMs >= 0, 'socketClosingNoticeMs', 'a number >= 0');
  check(resolved.invalidClientStatus === 400 || resolved.invalidClientStatus === 401, 'invalidClientStatus', '400 or 401');
  return resolved;
}

function check(ok: boolean, name: string, expected: string): void {
  if (!ok) throw new GtbError('ERR_CONFIG_INVALID', `sandbox option ${name} must be ${expected}`);
}
