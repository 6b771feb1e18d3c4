import { createHash } from 'node:crypto';
import type { RedisClient } from '@gtb/redis';

/** A Lua script with its SHA1, so it is sent once per server and then run by EVALSHA. */
export interface LuaScript {
  source: string;
  sha: string;
}

/** Wraps Lua source for `runScript`. */
export function luaScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Runs a script by SHA and falls back to EVAL on NOSCRIPT (a restarted or failed-over server).
 * Not `defineCommand`: that would add commands to a client other modules share.
 */
export async function runScript(redis: RedisClient, script: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
      return redis.eval(script.source, keys.length, ...keys, ...args);
    }
    throw err;
  }
}
