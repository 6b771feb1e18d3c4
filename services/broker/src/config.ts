import { z } from 'zod';
import { loadConfig } from '@gtb/config';
import { KEY_PREFIX_PATTERN, redisConfigSchema } from '@gtb/redis';
import { identityCacheSchema, idpListSchema } from './identity/idp-config.js';
import { issuerBindingIssues, policyConfigSchema } from './policy/index.js';
import { profileConfigSchema } from './tokens/profile-config.js';
import { keyRingConfigSchema } from './tokens/key-ring.js';
import { httpTlsSchema } from './http/tls-config.js';
import { trustedProxiesSchema } from './http/trusted-proxies.js';
import { consoleConfigSchema } from './console/console-settings.js';

/** The broker's whole configuration: a YAML/JSON file (`GTB_BROKER_CONFIG_FILE`) plus `GTB_BROKER_*` overrides. */
export const brokerConfigSchema = z.strictObject({
  /** Names this replica in logs, lock owners and event sources; defaults to host name and pid. */
  instanceId: z.string().min(1).max(100).optional(),
  http: z.strictObject({
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65_535).default(8080),
    /** Addresses or CIDRs of the proxies in front whose `X-Forwarded-For` is believed (for limits by client address); none by default. */
    trustProxy: trustedProxiesSchema,
    /** Time a draining replica waits for in-flight requests on SIGTERM. */
    shutdownTimeoutMs: z.number().int().min(0).max(120_000).default(15_000),
    /** Answer `GET /v1/tokens/{profile}` from memory ahead of the middleware stack when it can: the same answer at ~1.5× the rate (test/bench). */
    fastPath: z.boolean().default(true),
    /** HTTPS with a certificate reloaded on renewal; plain HTTP when absent (only behind a TLS-terminating proxy or mesh). */
    tls: httpTlsSchema.optional().describe('Serve HTTPS: bearer tokens cross the network encrypted. Absent: plain HTTP, only acceptable behind a proxy or service mesh that terminates TLS on the same host.'),
  }).default({ host: '0.0.0.0', port: 8080, trustProxy: [], shutdownTimeoutMs: 15_000, fastPath: true }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  redis: redisConfigSchema,
  /** Prefix of every Redis key; `gtb` in production (docs/architecture.md § Redis keys). */
  keyPrefix: z.string().regex(KEY_PREFIX_PATTERN).default('gtb'),
  idps: idpListSchema,
  /** The IdP token verifier's memory of verified and rejected tokens (per replica). */
  identityCache: identityCacheSchema,
  policy: policyConfigSchema,
  profiles: z.array(profileConfigSchema).min(1).superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((p, i) => {
      if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate profile ${p.name}` });
      seen.add(p.name);
    });
  }),
  encryption: keyRingConfigSchema,
  tokens: z.strictObject({
    lockTtlMs: z.number().int().min(1000).max(120_000).default(15_000),
    waitTimeoutMs: z.number().int().min(500).max(120_000).default(10_000),
  }).default({ lockTtlMs: 15_000, waitTimeoutMs: 10_000 }),
  leases: z.strictObject({
    defaultTtlSeconds: z.number().int().min(1).max(3600).default(60),
    maxTtlSeconds: z.number().int().min(1).max(3600).default(600),
    /** How long a revoke waits after token.rotated while leases are live. */
    graceSeconds: z.number().min(0).max(600).default(10),
    sweepIntervalMs: z.number().int().min(100).max(60_000).default(1000),
  }).default({ defaultTtlSeconds: 60, maxTtlSeconds: 600, graceSeconds: 10, sweepIntervalMs: 1000 }),
  rateLimit: z.strictObject({
    perMinute: z.number().int().min(1).max(1_000_000).default(600),
    /** Failed authentications a client address may have in a minute before its requests are refused (429) without verifying; counted per replica. */
    authFailuresPerAddress: z.number().int().min(1).max(1_000_000).default(60),
    /** Failed authentications one IdP token (by hash) may have in a minute, from any address; counted per replica. */
    authFailuresPerToken: z.number().int().min(1).max(1_000_000).default(10),
  }).default({ perMinute: 600, authFailuresPerAddress: 60, authFailuresPerToken: 10 }),
  /** The operator console under /console/ (sign-in with the IdP: authorization code + PKCE, a public client). */
  console: consoleConfigSchema,
}).superRefine((config, ctx) => {
  // The one check across idps and policy: with several IdPs, each rule says which one it trusts.
  const issuers = config.idps.map((idp) => idp.issuer);
  for (const issue of issuerBindingIssues(config.policy, issuers)) ctx.addIssue({ code: 'custom', path: ['policy', ...issue.path], message: issue.message });
});

export type BrokerConfig = z.output<typeof brokerConfigSchema>;

/** Loads the broker's configuration from `GTB_BROKER_CONFIG_FILE` and `GTB_BROKER_*` variables. */
export function loadBrokerConfig(env: Record<string, string | undefined> = process.env, file?: string): Readonly<BrokerConfig> {
  return loadConfig(brokerConfigSchema, { env, file, envPrefix: 'GTB_BROKER_' });
}
