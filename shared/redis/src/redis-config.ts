import { z } from 'zod';
import { redisTlsSchema } from './redis-tls.js';

// One description for the three modes' `tls` (the generated reference lists the setting once).
const TLS_DESCRIPTION = 'TLS to Redis, in every mode (absent: plain TCP, and the password crosses the network in clear). '
  + 'Standalone: needs a `rediss://` URL. Sentinel: for the master and replicas the sentinels name, and for the sentinels themselves unless `sentinelTls` is set. '
  + 'Cluster: for every node; seed host names are connected to as given, so that a certificate naming them verifies, and `tls.servername` is needed when the nodes learned from `CLUSTER SLOTS` are IPs the certificates do not name.';

const hostPort = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) });

/**
 * One configuration shape for standalone, Sentinel and Cluster Redis. Every mode takes a `tls`
 * block, so that the Redis password and the cached tokens never cross the network in clear.
 */
export const redisConfigSchema = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('standalone'),
    url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    /** TLS settings; TLS itself is on with a `rediss://` URL, which this block requires. */
    tls: redisTlsSchema.optional()
      .describe(TLS_DESCRIPTION),
  }),
  z.object({
    mode: z.literal('sentinel'),
    sentinels: z.array(hostPort).min(1),
    name: z.string().min(1).describe('the master group name the sentinels monitor'),
    password: z.string().optional(),
    sentinelPassword: z.string().optional(),
    db: z.number().int().min(0).default(0),
    /** TLS to the master and replicas the sentinels name (ioredis `tls` + `enableTLSForSentinelMode`). */
    tls: redisTlsSchema.optional()
      .describe(TLS_DESCRIPTION),
    /** TLS to the sentinels themselves (ioredis `sentinelTLS`); defaults to `tls`. */
    sentinelTls: redisTlsSchema.optional()
      .describe('TLS to the sentinels themselves, when it differs from `tls` (another CA or client certificate). Absent: the sentinels get `tls`.'),
  }),
  z.object({
    mode: z.literal('cluster'),
    nodes: z.array(hostPort).min(1),
    password: z.string().optional(),
    /** TLS to every node (ioredis `redisOptions.tls`); node host names are kept for the certificate check. */
    tls: redisTlsSchema.optional()
      .describe(TLS_DESCRIPTION),
  }),
]).superRefine((config, ctx) => {
  if (config.mode === 'standalone' && config.tls && !config.url.startsWith('rediss://')) {
    ctx.addIssue({ code: 'custom', path: ['url'], message: 'a tls block needs a rediss:// URL (redis:// is plain TCP)' });
  }
});

export type RedisConfig = z.infer<typeof redisConfigSchema>;
