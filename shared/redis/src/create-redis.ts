import { Redis, Cluster, type RedisOptions } from 'ioredis';
import type { RedisConfig } from './redis-config.js';

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
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    maxRetriesPerRequest: options.failFast ? 0 : 20,
    enableOfflineQueue: !options.failFast,
    lazyConnect: false,
  };
  switch (config.mode) {
    case 'standalone':
      return new Redis(config.url, common);
    case 'sentinel':
      return new Redis({
        ...common,
        sentinels: config.sentinels,
        name: config.name,
        password: config.password,
        sentinelPassword: config.sentinelPassword,
        db: config.db,
      });
    case 'cluster':
      return new Cluster(config.nodes, {
        redisOptions: { ...common, password: config.password },
        clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
        enableOfflineQueue: !options.failFast,
      });
  }
}

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
