export { createKeys, assertName, NAME_PATTERN, type Keys } from './keys.js';
export { redisConfigSchema, type RedisConfig } from './redis-config.js';
export { redisTlsSchema, tlsConnectOptions, type RedisTlsConfig } from './redis-tls.js';
export { createRedis, duplicateRedis, waitReady, sentinelOptions, clusterOptions, type RedisClient, type CreateRedisOptions } from './create-redis.js';
export { withLuaCommands, type LuaCommand } from './lua-command.js';
