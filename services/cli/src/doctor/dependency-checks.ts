import type { FetchLike } from '@gtb/errors';
import { createGenesysLogin, hostsFor } from '@gtb/genesys';
import { createRedis, redisConfigSchema } from '@gtb/redis';
import type { BrokerConfigView } from './broker-config-view.js';
import { runCheck, withTimeout, type CheckResult } from './checks.js';

/** PING through the broker's Redis settings (any mode). */
export function checkRedis(config: BrokerConfigView['redis'], from: string): Promise<CheckResult> {
  return runCheck('redis', `check redis in ${from} (or REDIS_URL) and that Redis is running and reachable from here`, async () => {
    const parsed = redisConfigSchema.safeParse(config);
    if (!parsed.success) throw new Error(`redis settings invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const redis = createRedis(parsed.data, { connectionName: 'gtb-doctor', failFast: false });
    redis.on('error', () => {}); // the PING's failure is the report
    try {
      const answer = await withTimeout(redis.ping(), 3000, `no answer from Redis (${parsed.data.mode}) within 3 s`);
      return `${parsed.data.mode} Redis answered ${answer}`;
    } finally {
      redis.disconnect();
    }
  });
}

/** Discovery document and JWKS of one IdP. */
export function checkIdpDiscovery(issuer: string, label: string, fetchFn: FetchLike): Promise<CheckResult> {
  return runCheck(`idp discovery ${label}`, `check the issuer URL (${label}); ${issuer}/.well-known/openid-configuration must answer from here, with "issuer" equal to it`, async () => {
    const base = issuer.replace(/\/+$/, '');
    const res = await fetchFn(`${base}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    const meta = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown; token_endpoint?: unknown };
    if (meta.issuer !== issuer) throw new Error(`discovery says issuer ${JSON.stringify(meta.issuer)}, configured ${JSON.stringify(issuer)}: they must match exactly`);
    if (typeof meta.jwks_uri !== 'string') throw new Error('discovery has no jwks_uri');
    const jwks = await fetchFn(meta.jwks_uri, { signal: AbortSignal.timeout(5000) });
    const body = (await jwks.json().catch(() => ({}))) as { keys?: unknown[] };
    if (!jwks.ok || !Array.isArray(body.keys) || body.keys.length === 0) throw new Error(`JWKS at ${meta.jwks_uri} has no keys (HTTP ${jwks.status})`);
    return `issuer ok, ${body.keys.length} signing key(s)`;
  });
}

/** A real client-credentials login at Genesys for one profile (it mints one token, which is dropped). */
export function checkGenesysLogin(profile: BrokerConfigView['profiles'][number], index: number, fetchFn: FetchLike): Promise<CheckResult> {
  return runCheck(`genesys login ${profile.name}`, `check profiles[${index}] (${profile.name}): region or loginBaseUrl, clientId, and clientSecret/clientSecretFile/clientSecretEnv; the OAuth client must have the client-credentials grant`, async () => {
    const loginBaseUrl = profile.region ? hostsFor(profile.region).loginBaseUrl : profile.loginBaseUrl;
    if (!loginBaseUrl) throw new Error('no region and no loginBaseUrl');
    if (!profile.clientSecret) throw new Error('no client secret (clientSecret, clientSecretFile or clientSecretEnv)');
    const login = createGenesysLogin({ loginBaseUrl, fetch: fetchFn, timeoutMs: 10_000 });
    const token = await login.clientCredentials(profile.clientId, profile.clientSecret);
    return `login ok at ${new URL(loginBaseUrl).host}, token lifetime ${token.expiresIn} s`;
  });
}
