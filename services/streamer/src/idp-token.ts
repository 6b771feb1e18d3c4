import * as oidc from 'openid-client';
import { GtbError } from '@gtb/errors';
import type { Logger } from '@gtb/logger';

/** Source of the streamer's own IdP token; `force` drops a cached one the broker refused. */
export type IdpTokenSource = (force?: boolean) => Promise<string>;

export interface IdpTokenOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  scope?: string | undefined;
  resource?: string | undefined;
  /** Allow http:// (loopback development and tests only). */
  allowInsecure: boolean;
  now: () => number;
  logger: Logger;
  /** Refresh once this share of the token's life has passed. */
  refreshAt?: number;
}

/**
 * The streamer's own IdP access token by client credentials (openid-client discovery + grant),
 * cached and fetched again once 80 % of its life has passed, or at once when `force` is set (the
 * broker refused it). One request in flight at a time.
 */
export function createIdpTokenSource(options: IdpTokenOptions): IdpTokenSource {
  const { now, logger } = options;
  const refreshAt = options.refreshAt ?? 0.8;
  let config: Promise<oidc.Configuration> | undefined;
  let cached: { token: string; refreshAfter: number } | undefined;
  let inFlight: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    config ??= oidc.discovery(new URL(options.issuer), options.clientId, undefined, oidc.ClientSecretBasic(options.clientSecret),
      options.allowInsecure ? { execute: [oidc.allowInsecureRequests] } : undefined)
      .catch((err: unknown) => {
        config = undefined;
        throw err;
      });
    const params: Record<string, string> = {};
    if (options.scope) params.scope = options.scope;
    if (options.resource) params.resource = options.resource;
    try {
      const started = now();
      const tokens = await oidc.clientCredentialsGrant(await config, params);
      const lifetimeMs = (tokens.expiresIn() ?? 300) * 1000;
      cached = { token: tokens.access_token, refreshAfter: started + lifetimeMs * refreshAt };
      logger.debug({ expiresInMs: lifetimeMs }, 'IdP token obtained');
      return tokens.access_token;
    } catch (err) {
      throw new GtbError('ERR_IDP_UNAVAILABLE', `client credentials grant at ${options.issuer} failed (${(err as Error).name})`, { cause: err });
    }
  }

  return (force = false) => {
    if (!force && cached && now() < cached.refreshAfter) return Promise.resolve(cached.token);
    inFlight ??= fetchToken().finally(() => { inFlight = undefined; });
    return inFlight;
  };
}
