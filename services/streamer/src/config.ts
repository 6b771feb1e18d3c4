import { z } from 'zod';
import { NAME_PATTERN, redisConfigSchema } from '@gtb/redis';

/**
 * The streamer's configuration (DESIGN.md § Streamer). The streamer itself is built in a later issue;
 * this schema fixes its shape now so that deployment artifacts and docs can refer to it.
 */
export const streamerConfigSchema = z.object({
  instanceId: z.string().min(1).optional(),
  redis: redisConfigSchema,
  keyPrefix: z.string().default('gtb'),
  brokerUrl: z.string().url(),
  identity: z.object({
    issuer: z.string().url(),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    scope: z.string().optional(),
  }),
  ha: z.enum(['active-passive', 'active-active']).default('active-active'),
  streams: z.array(z.object({
    name: z.string().regex(NAME_PATTERN),
    profile: z.string().regex(NAME_PATTERN),
    topics: z.array(z.string().regex(/^v2\.[A-Za-z0-9_.?&-]+$/)).min(1).max(1000),
  })).min(1),
});

export type StreamerConfig = z.infer<typeof streamerConfigSchema>;
