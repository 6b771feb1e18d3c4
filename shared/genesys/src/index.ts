export { REGIONS, REGION_IDS, hostsFor, isRegion, type Region, type GenesysHosts } from './regions.js';
export { createGenesysLogin, mapLoginError, type GenesysLogin, type GenesysLoginOptions, type ClientCredentialsToken } from './login-client.js';
export { createGenesysApi, mapApiError, type GenesysApi, type GenesysApiOptions, type TokenInfo } from './api-client.js';
export { type ReadResponse } from './http.js';
export { parseRetryAfter } from '@gtb/errors';
export { tokenBody, type TokenBodyFields } from './token-body.js';
