import type { Result } from 'ioredis';
import type { RedisClient } from '@gtb/redis';

/**
 * Dedupe and append as one atomic step per event: `SET dedupe 1 NX PX window`, and only when that
 * set the marker, `XADD`. Two separate commands would lose an event when a replica dies between
 * them (the marker written, the entry not), which a SIGKILL under load does. One call carries up to
 * `MAX_EVENTS_PER_CALL` events (each still its own SET and XADD, in order): a call per event cost
 * the streamer (ioredis' command and promises) and Redis (the script's start) more than the writes.
 * With a fence (active-passive), the call is refused ({-1}) once a newer owner holds the stream.
 * Every key shares the stream's hash tag, so the script runs in Cluster.
 *
 * KEYS: output stream, owner fence counter, then each event's dedupe marker.
 * ARGV: window ms, MAXLEN ('0' for none), fence ('0' for none), then per event: how many
 * field/value strings follow, and those.
 * Returns one number per event: 1 written, 0 duplicate; or {-1}: fenced out, nothing written.
 */
export const WRITE_SCRIPT = `
if ARGV[3] ~= '0' then
  local current = tonumber(redis.call('GET', KEYS[2]) or '0')
  if current > tonumber(ARGV[3]) then return {-1} end
end
local results = {}
local a = 4
for k = 3, #KEYS do
  local n = tonumber(ARGV[a])
  if redis.call('SET', KEYS[k], '1', 'NX', 'PX', ARGV[1]) then
    if ARGV[2] ~= '0' then
      redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, a + 1, a + n))
    else
      redis.call('XADD', KEYS[1], '*', unpack(ARGV, a + 1, a + n))
    end
    results[#results + 1] = 1
  else
    results[#results + 1] = 0
  end
  a = a + n + 1
end
return results`;

/** Events one script call carries at most (a call runs alone on Redis: a bounded time). */
export const MAX_EVENTS_PER_CALL = 100;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /**
     * WRITE_SCRIPT as a command (`defineWriteCommand`): the number of keys (2 + events), the keys,
     * then ARGV. One result per event (1 written, 0 duplicate), or [-1]: fenced out.
     */
    gtbStreamWrite(numberOfKeys: number, streamKey: string, fenceKey: string, ...keysThenArgv: (string | number | Buffer)[]): Result<number[], Context>;
  }
}

/**
 * Defines WRITE_SCRIPT on `redis` as the command `gtbStreamWrite` (ioredis `defineCommand`), on the
 * client and its pipelines: EVALSHA once the connection has sent the script, EVAL on a new
 * connection or when Redis answers NOSCRIPT (a restart, a failover, SCRIPT FLUSH), per node in a
 * Cluster. Defining it again is harmless.
 */
export function defineWriteCommand(redis: RedisClient): void {
  // No fixed numberOfKeys: each call passes its own (2 + its events).
  redis.defineCommand('gtbStreamWrite', { lua: WRITE_SCRIPT });
}
