import { GtbError } from '@gtb/errors';
import { createBrokerClient, type BrokerClient } from '@gtb/client';
import type { CommandInput } from './context.js';
import { identitySetting, identityTokenGetter } from './identity-source.js';

/** The broker URL from --url or GTB_URL. */
export function brokerUrl(input: CommandInput): string {
  const url = input.args.values.url ?? input.ctx.env['GTB_URL'];
  if (!url) throw new GtbError('ERR_CONFIG_INVALID', 'no broker URL: set GTB_URL or pass --url');
  return url;
}

/** A broker client from the settings; a bad URL is ERR_CONFIG_INVALID naming where it came from. */
export async function brokerClientFor(input: CommandInput): Promise<BrokerClient> {
  const url = brokerUrl(input);
  const setting = await identitySetting(input);
  try {
    return createBrokerClient({ url, getIdentityToken: identityTokenGetter(setting, input), fetch: input.ctx.fetch, now: input.ctx.now });
  } catch (err) {
    const from = input.args.values.url ? '--url' : 'GTB_URL';
    throw new GtbError('ERR_CONFIG_INVALID', `${from} must be the broker's http(s) base URL`, { cause: err });
  }
}
