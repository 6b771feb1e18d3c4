import { Cluster } from 'ioredis';
import { RedisStore, type RedisReply, type SendCommandClusterDetails } from 'rate-limit-redis';
import type { RedisClient } from '@gtb/redis';
import type { Logger } from '@gtb/logger';
import type { Store } from 'express-rate-limit';

/**
 * rate-limit-redis's store for the per-caller limit, shared by all replicas. The store loads its Lua
 * scripts in its constructor and nobody awaits those promises until the first request; on a Redis
 * that is down at start they would reject unhandled and kill the process. We observe them here (the
 * store reloads the scripts by itself on its next use), so a broker may start before Redis.
 */
export function createRateLimitStore(redis: RedisClient, prefix: string, logger?: Logger): Store {
  const store = redis instanceof Cluster
    ? new RedisStore({ prefix, sendCommandCluster: (details) => sendToCluster(redis, details) })
    : new RedisStore({ prefix, sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as never });
  const loads = store as unknown as { incrementScriptSha?: Promise<unknown>; getScriptSha?: Promise<unknown> };
  loads.incrementScriptSha?.catch(() => undefined);
  loads.getScriptSha?.catch(() => undefined);
  return quietWhenDown(store, logger);
}

/**
 * While Redis is down, every request's store error would be printed by express-rate-limit as a
 * multi-line stack on stderr. The limit fails open (the request passes, as `passOnStoreError` says)
 * and this says so once every 30 s in the broker's own log instead.
 */
function quietWhenDown(store: RedisStore, logger: Logger | undefined): Store {
  let lastWarned = 0;
  const increment: Store['increment'] = async (key) => {
    try {
      return await store.increment(key);
    } catch (err) {
      if (Date.now() - lastWarned > 30_000) {
        lastWarned = Date.now();
        logger?.warn({ err: (err as Error).message }, 'per-caller rate limit unavailable (Redis); requests pass unlimited meanwhile');
      }
      return { totalHits: 0, resetTime: undefined };
    }
  };
  return {
    prefix: store.prefix,
    localKeys: false,
    init: (options) => store.init(options),
    get: (key) => store.get(key).catch(() => undefined),
    increment,
    decrement: (key) => store.decrement(key).catch(() => undefined),
    resetKey: (key) => store.resetKey(key).catch(() => undefined),
  };
}

/**
 * In Cluster a keyless `SCRIPT LOAD` lands on one random node while `EVALSHA` goes to the key's
 * node, which then answers NOSCRIPT and the request passes uncounted. So scripts are loaded on
 * every master (the SHA is the same everywhere); other commands are routed by ioredis as usual.
 */
async function sendToCluster(cluster: Cluster, { command }: SendCommandClusterDetails): Promise<RedisReply> {
  const [name = '', ...args] = command;
  if (name.toUpperCase() === 'SCRIPT') {
    const replies = await Promise.all(cluster.nodes('master').map((node) => node.call(name, ...args)));
    return replies[0] as RedisReply;
  }
  return cluster.call(name, ...args) as Promise<RedisReply>;
}
