import { GtbError } from '@gtb/errors';

/**
 * Genesys Cloud region id → domain, as the official JS SDK lists them (its
 * `PureCloudRegionHosts.js`; docs/genesys-behaviour.md § Regions and hosts). Login is `https://login.<domain>`, the API `https://api.<domain>`.
 */
export const REGIONS = Object.freeze({
  us_east_1: 'mypurecloud.com',
  eu_west_1: 'mypurecloud.ie',
  ap_southeast_2: 'mypurecloud.com.au',
  ap_northeast_1: 'mypurecloud.jp',
  eu_central_1: 'mypurecloud.de',
  us_west_2: 'usw2.pure.cloud',
  ca_central_1: 'cac1.pure.cloud',
  ap_northeast_2: 'apne2.pure.cloud',
  eu_west_2: 'euw2.pure.cloud',
  ap_south_1: 'aps1.pure.cloud',
  us_east_2: 'use2.us-gov-pure.cloud',
  sa_east_1: 'sae1.pure.cloud',
  me_central_1: 'mec1.pure.cloud',
  ap_northeast_3: 'apne3.pure.cloud',
  eu_central_2: 'euc2.pure.cloud',
  mx_central_1: 'mxc1.pure.cloud',
  ap_southeast_1: 'apse1.pure.cloud',
  eusc_de_east_1: 'edee1.eusc-pure.cloud',
} as const);

/** A Genesys Cloud region id such as `eu_central_1`. */
export type Region = keyof typeof REGIONS;

/** The region ids, for a zod enum. */
export const REGION_IDS = Object.keys(REGIONS) as [Region, ...Region[]];

/** The two base URLs of a region. */
export interface GenesysHosts {
  loginBaseUrl: string;
  apiBaseUrl: string;
}

/** True when `value` is a known region id. */
export function isRegion(value: unknown): value is Region {
  return typeof value === 'string' && Object.hasOwn(REGIONS, value);
}

/** The login and API base URLs of a region; ERR_VALIDATION for an unknown region. */
export function hostsFor(region: string): GenesysHosts {
  if (!isRegion(region)) {
    throw new GtbError('ERR_VALIDATION', `unknown Genesys region ${JSON.stringify(region.slice(0, 40))}`);
  }
  const domain = REGIONS[region];
  return { loginBaseUrl: `https://login.${domain}`, apiBaseUrl: `https://api.${domain}` };
}
