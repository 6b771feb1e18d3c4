import { GtbError, isGtbError } from '@gtb/errors';

/**
 * Runs one Redis operation with a deadline and turns any Redis failure into ERR_REDIS_UNAVAILABLE.
 * The client is fail-fast when disconnected, but a half-open TCP connection would still hang a
 * command until the OS gives up; the deadline keeps a request from waiting on it.
 */
export async function guardRedis<T>(op: () => Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      op(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new GtbError('ERR_REDIS_UNAVAILABLE', `redis ${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    if (isGtbError(err)) throw err;
    throw new GtbError('ERR_REDIS_UNAVAILABLE', `redis ${what} failed`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
