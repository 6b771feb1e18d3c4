export { createKeys, assertName, NAME_PATTERN, type Keys } from './keys.js';
export { redisConfigSchema, type RedisConfig } from './redis-config.js';
export { createRedis, duplicateRedis, waitReady, type RedisClient, type CreateRedisOptions } from './create-redis.js';
