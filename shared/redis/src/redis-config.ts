import { z } from 'zod';

const hostPort = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) });

/** One configuration shape for standalone, Sentinel and Cluster Redis. */
export const redisConfigSchema = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('standalone'),
    url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  }),
  z.object({
    mode: z.literal('sentinel'),
    sentinels: z.array(hostPort).min(1),
    name: z.string().min(1).describe('the master group name the sentinels monitor'),
    password: z.string().optional(),
    sentinelPassword: z.string().optional(),
    db: z.number().int().min(0).default(0),
  }),
  z.object({
    mode: z.literal('cluster'),
    nodes: z.array(hostPort).min(1),
    password: z.string().optional(),
  }),
]);

export type RedisConfig = z.infer<typeof redisConfigSchema>;
