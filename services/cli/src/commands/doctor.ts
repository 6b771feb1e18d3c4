import { createHash } from 'node:crypto';
import { GtbError, isGtbError } from '@gtb/errors';
import { assertBrokerUrl, createBrokerClient } from '@gtb/client';
import { onlyOptions } from '../args.js';
import type { CommandInput } from '../context.js';
import { loadBrokerConfigView, type BrokerConfigView } from '../doctor/broker-config-view.js';
import { runCheck, type CheckResult } from '../doctor/checks.js';
import { checkGenesysLogin, checkIdpDiscovery, checkRedis } from '../doctor/dependency-checks.js';
import { identitySetting, identityTokenGetter, type IdentitySetting } from '../identity-source.js';
import { jsonLine, line } from '../output.js';

const fp = (secret: string) => createHash('sha256').update(secret).digest('hex').slice(0, 12);

/** Checks of what the CLI itself is told: broker URL, identity, broker config file. */
async function configurationChecks(input: CommandInput) {
  const { env } = input.ctx;
  const results: CheckResult[] = [];
  const rawUrl = input.args.values.url ?? env['GTB_URL'];
  let url: string | undefined;
  results.push(await runCheck('broker url', 'export GTB_URL=https://<broker host> (or pass --url)', async () => {
    if (!rawUrl) throw new GtbError('ERR_CONFIG_INVALID', 'GTB_URL is not set');
    url = assertBrokerUrl(input.args.values.url ? '--url' : 'GTB_URL', rawUrl);
    return url;
  }));
  let identity = { kind: 'none' } as IdentitySetting;
  results.push(await runCheck('identity settings', 'set GTB_TOKEN or GTB_TOKEN_FILE to an IdP access token, or GTB_IDP_ISSUER + GTB_IDP_CLIENT_ID + GTB_IDP_CLIENT_SECRET(_FILE)', async () => {
    identity = await identitySetting(input);
    if (identity.kind === 'none') throw new GtbError('ERR_CONFIG_INVALID', 'no identity configured');
    return identity.kind === 'client-credentials' ? `client credentials of ${identity.clientId} at ${identity.issuer}` : `token from ${identity.from}`;
  }));
  const file = input.args.values.config ?? env['GTB_BROKER_CONFIG_FILE'];
  let view: BrokerConfigView | undefined;
  if (file) {
    results.push(await runCheck('broker config', `fix the setting named above in ${file} (or its GTB_BROKER_* override)`, async () => {
      view = loadBrokerConfigView(file, env);
      return `${file}: ${view.profiles.length} profile(s), ${view.idps.length} IdP(s), Redis ${view.redis.mode}`;
    }));
  }
  return { results, url, identity, view, file };
}

/** `gtb doctor [--config <broker config>] [--profile <p>]`: checks settings, broker, identity, Redis, IdPs and Genesys logins. */
export async function doctorCommand(input: CommandInput): Promise<number> {
  onlyOptions(input.args, 'doctor', ['config', 'profile', 'redis-url']);
  if (input.args.positionals.length > 1) throw new GtbError('ERR_USAGE', 'usage: gtb doctor [--config <broker config file>] [--profile <profile>]');
  const fetchFn = input.ctx.fetch ?? globalThis.fetch;
  const profile = input.args.values.profile;
  const { results, url, identity, view, file } = await configurationChecks(input);

  if (url) {
    results.push(await runCheck('broker health', 'start the broker, or check GTB_URL and the network path to it; /readyz lists what the broker itself misses', async () => {
      const live = await fetchFn(`${url}/healthz`, { signal: AbortSignal.timeout(5000) }).catch((err: unknown) => {
        throw new GtbError('ERR_BROKER_UNREACHABLE', `broker at ${url} unreachable: ${(err as Error).message}`);
      });
      if (!live.ok) throw new GtbError('ERR_BROKER_UNREACHABLE', `/healthz answered ${live.status}`);
      const ready = await fetchFn(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
      const body = (await ready.json().catch(() => ({}))) as { checks?: Record<string, boolean> };
      const checks = Object.entries(body.checks ?? {}).map(([k, v]) => `${k} ${v ? 'ok' : 'FAILING'}`).join(', ');
      if (!ready.ok) throw new GtbError('ERR_UPSTREAM_UNAVAILABLE', `broker live but not ready (${checks || `HTTP ${ready.status}`})`);
      return `live and ready${checks ? ` (${checks})` : ''}`;
    }));
  }

  let idToken: string | undefined;
  if (identity.kind !== 'none') {
    const getter = identityTokenGetter(identity, input);
    results.push(await runCheck('identity token', identity.kind === 'client-credentials'
      ? 'check GTB_IDP_ISSUER (reachable, discovery), GTB_IDP_CLIENT_ID/SECRET, and that the client may use the client-credentials grant'
      : 'put a current IdP access token in GTB_TOKEN / GTB_TOKEN_FILE', async () => {
      idToken = await getter();
      return `got an IdP token (fingerprint ${fp(idToken)})`;
    }));
  }

  if (url && idToken) {
    const token = idToken;
    const client = createBrokerClient({ url, getIdentityToken: async () => token, fetch: input.ctx.fetch });
    results.push(await runCheck('broker accepts identity', 'the broker policy must grant this identity (issuer + client id/subject/groups) the profile; see the broker audit log for the rule that failed', async () => {
      if (profile) {
        const t = await client.getToken(profile);
        return `may use ${profile} (token fingerprint ${t.fingerprint}, expires ${new Date(t.expiresAt).toISOString()})`;
      }
      try {
        const profiles = await client.listProfiles();
        return `authenticated as an admin; profiles: ${profiles.map((p) => String(p['name'])).join(', ')}`;
      } catch (err) {
        if (isGtbError(err, 'ERR_ADMIN_REQUIRED')) return 'authenticated (not an admin; pass --profile <p> to check a profile)';
        throw err;
      }
    }));
  }

  const redisUrl = input.args.values['redis-url'] ?? input.ctx.env['REDIS_URL'];
  if (view) results.push(await checkRedis(view.redis, file ?? 'the broker config'));
  else if (redisUrl) results.push(await checkRedis({ mode: 'standalone', url: redisUrl }, 'REDIS_URL'));

  const issuers = new Map<string, string>();
  view?.idps.forEach((idp, i) => issuers.set(idp.issuer, `idps[${i}]`));
  if (identity.kind === 'client-credentials' && !issuers.has(identity.issuer)) issuers.set(identity.issuer, 'GTB_IDP_ISSUER');
  for (const [issuer, label] of issuers) results.push(await checkIdpDiscovery(issuer, label, fetchFn));

  for (const [i, p] of (view?.profiles ?? []).entries()) {
    if (profile && p.name !== profile) continue;
    results.push(await checkGenesysLogin(p, i, fetchFn));
  }

  const failed = results.filter((r) => !r.ok);
  if (input.json) {
    jsonLine(input, { ok: failed.length === 0, checks: results });
  } else {
    const width = Math.max(...results.map((r) => r.name.length));
    for (const r of results) {
      line(input, `${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(width)}  ${r.detail}`);
      if (!r.ok && r.fix) line(input, `      ${' '.repeat(width)}  fix: ${r.fix}`);
    }
    line(input, failed.length === 0 ? 'all checks passed' : `${failed.length} problem(s) found`);
  }
  return failed.length === 0 ? 0 : 1;
}
