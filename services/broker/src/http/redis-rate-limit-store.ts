import { RedisStore } from 'rate-limit-redis';
import type { RedisClient } from '@gtb/redis';

/**
 * rate-limit-redis's store for the per-caller limit, shared by all replicas. The store loads its Lua
 * scripts in its constructor and nobody awaits those promises until the first request; on a Redis
 * that is down at start they would reject unhandled and kill the process. We observe them here (the
 * store reloads the scripts by itself on its next use), so a broker may start before Redis.
 */
export function createRateLimitStore(redis: RedisClient, prefix: string): RedisStore {
  const store = new RedisStore({
    prefix,
    sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as never,
  });
  const loads = store as unknown as { incrementScriptSha?: Promise<unknown>; getScriptSha?: Promise<unknown> };
  loads.incrementScriptSha?.catch(() => undefined);
  loads.getScriptSha?.catch(() => undefined);
  return store;
}
