import { z } from 'zod';
import { NAME_PATTERN } from '@gtb/redis';
import { REGION_IDS, hostsFor, type GenesysHosts } from '@gtb/genesys';

const baseUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** Refresh policy: refresh-ahead point and the least lifetime a handed-out token must have left. */
export const refreshPolicySchema = z.strictObject({
  /** Fraction of the lifetime after which a background refresh starts (80 %, like Vault's watcher). */
  at: z.number().min(0.1).max(0.95).default(0.8),
  /** ± fraction of the lifetime, so that profiles minted together do not refresh together. */
  jitter: z.number().min(0).max(0.2).default(0.05),
  /** A token with less than this left is never handed out: a caller must have time to use it. */
  minTtlSeconds: z.number().int().min(0).max(86_400).default(300),
});

/**
 * One Genesys OAuth client in one region. `clientSecret` arrives resolved: loadConfig turns
 * `clientSecretFile` / `clientSecretEnv` into it.
 */
export const profileConfigSchema = z
  .strictObject({
    name: z.string().regex(NAME_PATTERN, `must match ${NAME_PATTERN}`),
    region: z.enum(REGION_IDS, { error: `must be one of ${REGION_IDS.join(', ')}` }).optional(),
    loginBaseUrl: baseUrl.optional(),
    apiBaseUrl: baseUrl.optional(),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1, 'must be set (use clientSecretFile or clientSecretEnv)'),
    refresh: refreshPolicySchema.default({ at: 0.8, jitter: 0.05, minTtlSeconds: 300 }),
  })
  .superRefine((p, ctx) => {
    const hasUrls = p.loginBaseUrl !== undefined || p.apiBaseUrl !== undefined;
    if (p.region !== undefined && hasUrls) {
      ctx.addIssue({ code: 'custom', path: ['region'], message: 'set either region or loginBaseUrl + apiBaseUrl, not both' });
    } else if (p.region === undefined && (p.loginBaseUrl === undefined || p.apiBaseUrl === undefined)) {
      ctx.addIssue({ code: 'custom', path: p.loginBaseUrl === undefined ? ['loginBaseUrl'] : ['apiBaseUrl'], message: 'set region, or both loginBaseUrl and apiBaseUrl' });
    }
    if (p.refresh.at - p.refresh.jitter <= 0) {
      ctx.addIssue({ code: 'custom', path: ['refresh', 'jitter'], message: 'must be smaller than refresh.at' });
    }
  });

/** A validated profile. */
export type ProfileConfig = z.output<typeof profileConfigSchema>;

/** What a profile's config may look like before defaults. */
export type ProfileConfigInput = z.input<typeof profileConfigSchema>;

/** The login and API base URLs of a validated profile. */
export function profileHosts(profile: ProfileConfig): GenesysHosts {
  if (profile.region !== undefined) return hostsFor(profile.region);
  // The schema guarantees both URLs when there is no region.
  return { loginBaseUrl: profile.loginBaseUrl!, apiBaseUrl: profile.apiBaseUrl! };
}
