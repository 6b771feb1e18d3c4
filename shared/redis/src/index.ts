export { createKeys, assertName, KEY_PREFIX_PATTERN, type Keys } from './keys.js';
/** Profile and stream names (defined in @gtb/errors, which @gtb/client shares). */
export { NAME_PATTERN } from '@gtb/errors';
export { redisConfigSchema, type RedisConfig } from './redis-config.js';
export { redisTlsSchema, tlsConnectOptions, type RedisTlsConfig } from './redis-tls.js';
export { createRedis, duplicateRedis, waitReady, sentinelOptions, clusterOptions, type RedisClient, type CreateRedisOptions } from './create-redis.js';
export { withLuaCommands, type LuaCommand } from './lua-command.js';
