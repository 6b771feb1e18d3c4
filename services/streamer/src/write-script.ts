import type { Result } from 'ioredis';
import type { RedisClient } from '@gtb/redis';

/**
 * Dedupe and append as one atomic step: `SET dedupe 1 NX PX window`, and only when that set the
 * marker, `XADD`. Two separate commands would lose an event when a replica dies between them (the
 * marker written, the entry not), which a SIGKILL under load does. With a fence (active-passive),
 * the write is refused (-1) once a newer owner holds the stream. Every key shares the stream's
 * hash tag, so the script runs in Cluster.
 *
 * KEYS: dedupe marker, output stream, owner fence counter.
 * ARGV: window ms, MAXLEN ('0' for none), fence ('0' for none), then the entry's field/value pairs.
 * Returns 1 written, 0 duplicate, -1 fenced out.
 */
export const WRITE_SCRIPT = `
if ARGV[3] ~= '0' then
  local current = tonumber(redis.call('GET', KEYS[3]) or '0')
  if current > tonumber(ARGV[3]) then return -1 end
end
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
if ARGV[2] ~= '0' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 4))
else
  redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4))
end
return 1`;


declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** WRITE_SCRIPT as a command (`defineWriteCommand`): keys, then ARGV. 1 written, 0 duplicate, -1 fenced out. */
    gtbStreamWrite(dedupeKey: string, streamKey: string, fenceKey: string, ...argv: (string | number)[]): Result<number, Context>;
  }
}

/**
 * Defines WRITE_SCRIPT on `redis` as the command `gtbStreamWrite` (ioredis `defineCommand`), on the
 * client and its pipelines: EVALSHA once the connection has sent the script, EVAL on a new
 * connection or when Redis answers NOSCRIPT (a restart, a failover, SCRIPT FLUSH), per node in a
 * Cluster. Defining it again is harmless.
 */
export function defineWriteCommand(redis: RedisClient): void {
  redis.defineCommand('gtbStreamWrite', { numberOfKeys: 3, lua: WRITE_SCRIPT });
}
