import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import { createRedis, waitReady, type RedisClient } from '@gtb/redis';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A real Redis client and a unique key prefix, cleaned up after the test. */
export async function redisFor(t: TestContext): Promise<{ redis: RedisClient; prefix: string }> {
  const redis = createRedis({ mode: 'standalone', url }, { connectionName: 'lock-test' });
  const prefix = `test:${randomUUID()}`;
  t.after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
  await waitReady(redis);
  return { redis, prefix };
}
