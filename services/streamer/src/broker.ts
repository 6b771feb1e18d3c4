import { createBrokerClient, type BrokerClient } from '@gtb/client';
import type { FetchLike } from '@gtb/errors';
import { fetchTrusting } from './ca-fetch.js';
import type { IdpTokenSource } from './idp-token.js';

export interface StreamerBrokerOptions {
  brokerUrl: string;
  /** PEM CA to trust for an https broker (`brokerCa`); ignored when `fetch` is given. */
  ca?: string | undefined;
  idpToken: IdpTokenSource;
  fetch?: FetchLike;
}

/**
 * The streamer's client of the broker: `@gtb/client`, as apps use it, presenting the streamer's
 * own IdP token (a fresh one when the broker found it expired) over a fetch that trusts `ca`.
 */
export function createStreamerBroker(options: StreamerBrokerOptions): BrokerClient {
  const fetch = options.fetch ?? (options.ca ? fetchTrusting(options.ca) : undefined);
  return createBrokerClient({
    url: options.brokerUrl,
    getIdentityToken: (o) => options.idpToken(o?.forceRefresh === true),
    ...(fetch ? { fetch } : {}),
  });
}
