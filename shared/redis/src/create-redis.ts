import { Redis, Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import { exponentialDelay } from '@gtb/errors';
import type { RedisConfig } from './redis-config.js';
import { tlsConnectOptions } from './redis-tls.js';

/** A client of any mode; both classes share the command interface the project uses. */
export type RedisClient = Redis | Cluster;

export interface CreateRedisOptions {
  /** Name shown in `CLIENT LIST`, e.g. `broker:<instance>`. */
  connectionName?: string;
  /**
   * Fail commands at once while disconnected instead of queueing them, so a request never hangs on
   * a dead Redis: callers fall back to what they hold in memory. Subscribers keep the queue.
   */
  failFast?: boolean;
}

/** Builds an ioredis client for standalone, Sentinel or Cluster from one configuration shape. */
export function createRedis(config: RedisConfig, options: CreateRedisOptions = {}): RedisClient {
  const common: RedisOptions = {
    connectionName: options.connectionName,
    // Reconnect forever with a capped backoff: Redis coming back must heal the process by itself.
    retryStrategy: (times) => exponentialDelay(times, { baseMs: 50, maxMs: 2000 }),
    maxRetriesPerRequest: options.failFast ? 0 : 20,
    enableOfflineQueue: !options.failFast,
    lazyConnect: false,
  };
  switch (config.mode) {
    case 'standalone':
      // A rediss:// URL alone turns TLS on with the system roots; the block adds CA, client cert, name.
      return new Redis(config.url, config.tls ? { ...common, tls: tlsConnectOptions(config.tls) } : common);
    case 'sentinel':
      return new Redis(sentinelOptions(config, common));
    case 'cluster':
      return new Cluster(config.nodes, clusterOptions(config, common, options));
  }
}

/** Sentinel options, with TLS to the sentinels and to the master and replicas they name. */
export function sentinelOptions(config: Extract<RedisConfig, { mode: 'sentinel' }>, common: RedisOptions = {}): RedisOptions {
  const tls = config.tls ? tlsConnectOptions(config.tls) : undefined;
  const sentinelTls = config.sentinelTls ? tlsConnectOptions(config.sentinelTls) : tls;
  return {
    ...common,
    sentinels: config.sentinels,
    name: config.name,
    password: config.password,
    sentinelPassword: config.sentinelPassword,
    db: config.db,
    // ioredis uses `tls` for the master/replica connections only with enableTLSForSentinelMode;
    // the sentinel connections take `sentinelTLS`.
    ...(tls ? { tls, enableTLSForSentinelMode: true } : {}),
    ...(sentinelTls ? { sentinelTLS: sentinelTls } : {}),
  };
}

/** Cluster options: TLS for every node connection, seed host names kept for the certificate check. */
export function clusterOptions(config: Extract<RedisConfig, { mode: 'cluster' }>, common: RedisOptions = {}, options: CreateRedisOptions = {}): ClusterOptions {
  return {
    redisOptions: { ...common, password: config.password, ...(config.tls ? { tls: tlsConnectOptions(config.tls) } : {}) },
    clusterRetryStrategy: (times) => exponentialDelay(times, { baseMs: 100, maxMs: 2000 }),
    enableOfflineQueue: !options.failFast,
    // By default ioredis resolves seed host names to IPs first, and TLS then checks the certificate
    // against the IP; connecting to the name as given lets a certificate that names the host verify.
    ...(config.tls ? { dnsLookup: keepHostName } : {}),
  };
}

const keepHostName: NonNullable<ClusterOptions['dnsLookup']> = (hostname, callback) => callback(null, hostname);

/** A second connection of the same kind, for SUBSCRIBE (a subscribed connection runs no commands). */
export function duplicateRedis(client: RedisClient): RedisClient {
  return client.duplicate();
}

/** Resolves when the client is ready, rejects after `timeoutMs`. */
export async function waitReady(client: RedisClient, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`redis not ready after ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = () => { cleanup(); resolve(); };
    const cleanup = () => { clearTimeout(timer); client.off('ready', onReady); };
    client.on('ready', onReady);
  });
}
