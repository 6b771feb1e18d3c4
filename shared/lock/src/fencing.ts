import { GtbError } from '@gtb/errors';
import { withLuaCommands, type LuaCommand, type RedisClient } from '@gtb/redis';
import type { Result } from 'ioredis';

/** The next fencing number of a resource: a strictly increasing `INCR` shared by every replica. */
export async function nextFence(redis: RedisClient, fenceKey: string): Promise<number> {
  return redis.incr(fenceKey);
}

// The data lives in a hash {fence, value}: the fence travels with the data it guards. The write
// goes through only if the caller's fence is greater than the stored one, so a holder whose lock
// lapsed (GC pause, slow upstream) cannot overwrite what a newer holder wrote. With a fence key
// (ARGV[4] = '1'), a fence above the counter is refused too: it was never handed out; without one,
// KEYS[2] is the data key again (a command has a fixed number of keys) and is not read.
const FENCED_WRITE: LuaCommand = { name: 'gtbFencedWrite', numberOfKeys: 2, lua: `
local fence = tonumber(ARGV[1])
local stored = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
if fence <= stored then return 0 end
if ARGV[4] == '1' then
  local issued = tonumber(redis.call('GET', KEYS[2]) or '0')
  if fence > issued then return 0 end
end
redis.call('HSET', KEYS[1], 'fence', ARGV[1], 'value', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1` };

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** FENCED_WRITE: 1 written, 0 refused (an older or equal fence, or one never issued). */
    gtbFencedWrite(dataKey: string, fenceKey: string, fence: number, value: string, ttlMs: number, checkIssued: '0' | '1'): Result<number, Context>;
  }
}

export interface FencedWrite {
  /** The hash holding `{fence, value}`. */
  dataKey: string;
  /** The `INCR` counter; when given, it must share `dataKey`'s hash tag (Cluster). */
  fenceKey?: string;
  value: string;
  fence: number;
  ttlMs: number;
}

/** Stores `value` under `dataKey` only if `fence` is newer than the stored one; true if written. */
export async function fencedWrite(redis: RedisClient, write: FencedWrite): Promise<boolean> {
  if (!Number.isSafeInteger(write.fence) || write.fence < 1) throw new GtbError('ERR_VALIDATION', 'fence must be a positive integer');
  if (!Number.isFinite(write.ttlMs) || write.ttlMs < 1) throw new GtbError('ERR_VALIDATION', 'ttlMs must be a positive number');
  const result = await withLuaCommands(redis, FENCED_WRITE).gtbFencedWrite(
    write.dataKey, write.fenceKey ?? write.dataKey, write.fence, write.value, Math.ceil(write.ttlMs), write.fenceKey === undefined ? '0' : '1');
  return result === 1;
}

/** Reads what `fencedWrite` stored, or null. */
export async function readFenced(redis: RedisClient, dataKey: string): Promise<{ fence: number; value: string } | null> {
  const [fence, value] = await redis.hmget(dataKey, 'fence', 'value');
  if (fence === null || fence === undefined || value === null || value === undefined) return null;
  const n = Number(fence);
  return Number.isSafeInteger(n) ? { fence: n, value } : null;
}
