import { readFile } from 'node:fs/promises';
import { GtbError, type FetchLike } from '@gtb/errors';
import type { CommandInput } from './context.js';

/** Where the IdP token comes from, as the settings describe it (secrets never printed). */
export type IdentitySetting =
  | { kind: 'file'; path: string; from: string }
  | { kind: 'env'; from: 'GTB_TOKEN' }
  | { kind: 'client-credentials'; issuer: string; clientId: string; clientSecret: string; scope?: string; resource?: string }
  | { kind: 'none' };

/** Reads the identity settings: --token-file, GTB_TOKEN, GTB_TOKEN_FILE, or GTB_IDP_* client credentials. */
export async function identitySetting(input: CommandInput): Promise<IdentitySetting> {
  const { env } = input.ctx;
  const flag = input.args.values['token-file'];
  if (flag) return { kind: 'file', path: flag, from: '--token-file' };
  if (env['GTB_TOKEN']) return { kind: 'env', from: 'GTB_TOKEN' };
  if (env['GTB_TOKEN_FILE']) return { kind: 'file', path: env['GTB_TOKEN_FILE'], from: 'GTB_TOKEN_FILE' };
  const issuer = env['GTB_IDP_ISSUER'];
  const clientId = env['GTB_IDP_CLIENT_ID'];
  let clientSecret = env['GTB_IDP_CLIENT_SECRET'];
  if (!clientSecret && env['GTB_IDP_CLIENT_SECRET_FILE']) {
    clientSecret = await readFile(env['GTB_IDP_CLIENT_SECRET_FILE'], 'utf8').then((s) => s.trim(), () => {
      throw new GtbError('ERR_CONFIG_FILE', 'GTB_IDP_CLIENT_SECRET_FILE cannot be read');
    });
  }
  if (issuer || clientId || clientSecret) {
    const missing = [['GTB_IDP_ISSUER', issuer], ['GTB_IDP_CLIENT_ID', clientId], ['GTB_IDP_CLIENT_SECRET', clientSecret]].filter(([, v]) => !v).map(([k]) => k);
    if (missing.length > 0) throw new GtbError('ERR_CONFIG_INVALID', `IdP client credentials need ${missing.join(', ')} as well`);
    return { kind: 'client-credentials', issuer: issuer!, clientId: clientId!, clientSecret: clientSecret!, scope: env['GTB_IDP_SCOPE'] || undefined, resource: env['GTB_IDP_RESOURCE'] || undefined };
  }
  return { kind: 'none' };
}

/** True for an http URL the CLI may use without TLS: loopback only (local development, tests). */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost');
}

/** Gets an IdP access token by client credentials (openid-client discovery + grant). */
async function clientCredentialsToken(setting: Extract<IdentitySetting, { kind: 'client-credentials' }>, fetchFn?: FetchLike): Promise<string> {
  const client = await import('openid-client');
  let issuer: URL;
  try {
    issuer = new URL(setting.issuer);
  } catch {
    throw new GtbError('ERR_CONFIG_INVALID', 'GTB_IDP_ISSUER is not a URL');
  }
  const insecure = isLoopbackHttp(issuer);
  if (issuer.protocol !== 'https:' && !insecure) throw new GtbError('ERR_CONFIG_INVALID', 'GTB_IDP_ISSUER must be https:// (http:// only for 127.0.0.1)');
  let config: Awaited<ReturnType<typeof client.discovery>>;
  try {
    config = await client.discovery(issuer, setting.clientId, undefined, client.ClientSecretBasic(setting.clientSecret), {
      execute: insecure ? [client.allowInsecureRequests] : [],
      timeout: 10,
      ...(fetchFn ? { [client.customFetch]: fetchFn } : {}),
    });
  } catch (err) {
    throw new GtbError('ERR_IDP_UNAVAILABLE', `IdP discovery at ${issuer.origin} failed: ${(err as Error).message}`, { cause: err });
  }
  try {
    const params: Record<string, string> = {};
    if (setting.scope) params['scope'] = setting.scope;
    if (setting.resource) params['resource'] = setting.resource;
    const answer = await client.clientCredentialsGrant(config, params);
    return answer.access_token;
  } catch (err) {
    const e = err as { error?: string; code?: string; status?: number; message?: string };
    // An OAuth error answer (invalid_client, unauthorized_client, invalid_scope), or a 401 challenge
    // (how oidc-provider answers a wrong Basic secret), is the credentials' fault, not an outage.
    const oauthError = typeof e.error === 'string' ? e.error : e.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE' || e.status === 401 ? 'invalid_client' : undefined;
    if (oauthError) throw new GtbError('ERR_IDP_CREDENTIALS_REJECTED', `the IdP refused the client credentials grant: ${oauthError}`, { cause: err });
    throw new GtbError('ERR_IDP_UNAVAILABLE', `IdP token request failed: ${e.message ?? 'unknown error'}`, { cause: err });
  }
}

/** A function giving the IdP token for broker requests; asks the IdP once per CLI run. */
export function identityTokenGetter(setting: IdentitySetting, input: CommandInput): () => Promise<string> {
  let cached: Promise<string> | undefined;
  return () => {
    cached ??= (async () => {
      switch (setting.kind) {
        case 'env':
          return input.ctx.env['GTB_TOKEN']!.trim();
        case 'file':
          return readFile(setting.path, 'utf8').then((s) => s.trim(), () => {
            throw new GtbError('ERR_CONFIG_FILE', `${setting.from} cannot be read`);
          });
        case 'client-credentials':
          return clientCredentialsToken(setting, input.ctx.fetch);
        case 'none':
          throw new GtbError('ERR_CONFIG_INVALID', 'no identity: set GTB_TOKEN, GTB_TOKEN_FILE (or --token-file), or GTB_IDP_ISSUER + GTB_IDP_CLIENT_ID + GTB_IDP_CLIENT_SECRET');
      }
    })();
    cached.catch(() => { cached = undefined; });
    return cached;
  };
}
