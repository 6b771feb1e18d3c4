export { createBrokerClient, type BrokerClient, type BrokerClientOptions, type GetTokenOptions } from './broker-client.js';
export { BrokerClientError, isBrokerClientError, type BrokerClientErrorOptions, type Problem } from './broker-client-error.js';
export { createBrokerHttp, assertBrokerUrl, type BrokerHttp, type BrokerHttpOptions, type BrokerAnswer, type IdentityTokenSource } from './broker-http.js';
/** The part of `fetch` the client calls; inject one to add a proxy, mTLS or a test double. */
export { type FetchLike } from '@gtb/errors';
export { createBrokerApi, assertProfile, PROFILE_PATTERN, type BrokerApi, type LeaseInfo, type RotationResult } from './broker-api.js';
export { parseTokenBody, parseLeaseBody, type BrokerToken, type BrokerLease } from './broker-token.js';
export { attachToGenesysSdk, type AccessTokenSink, type AttachOptions, type SdkAttachment } from './sdk-attachment.js';
export { createLeaseHelper, type LeaseHelper, type LeaseHelperOptions } from './lease-helper.js';
export { parseRetryAfter } from '@gtb/errors';
