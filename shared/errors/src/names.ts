/**
 * Profile and stream names: safe inside a Redis hash tag and a URL path segment. Here rather than
 * beside the Redis key names because @gtb/client checks names too and must not depend on
 * @gtb/redis (ioredis); this package is the one both already depend on.
 */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
