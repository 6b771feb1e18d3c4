import type { RedisClient } from './create-redis.js';

/**
 * A Lua script run as an ioredis custom command (`defineCommand`). Type the command with a
 * `declare module 'ioredis' { interface RedisCommander<Context> { … } }` beside the script.
 */
export interface LuaCommand {
  /** Starts with `gtb`, so that it cannot shadow a Redis command on a client other modules share. */
  name: `gtb${string}`;
  numberOfKeys: number;
  lua: string;
}

const defined = new WeakMap<RedisClient, Set<string>>();

/**
 * Defines `commands` on `redis`, once per client, and returns the client. ioredis then sends each
 * script to a connection as EVAL once and as EVALSHA after that, sends it as EVAL again when Redis
 * answers NOSCRIPT (a restart, a failover, SCRIPT FLUSH), per node in a Cluster, and in pipelines
 * made after the definition. Defining once matters: a new definition forgets which connections
 * hold the script and sends the whole source again.
 */
export function withLuaCommands<C extends RedisClient>(redis: C, ...commands: LuaCommand[]): C {
  let names = defined.get(redis);
  if (!names) defined.set(redis, (names = new Set()));
  for (const { name, numberOfKeys, lua } of commands) {
    if (names.has(name)) continue;
    redis.defineCommand(name, { numberOfKeys, lua });
    names.add(name);
  }
  return redis;
}
