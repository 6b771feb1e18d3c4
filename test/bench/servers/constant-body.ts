/**
 * The baselines' answer: a constant JSON of the same shape and size as the broker's token answer,
 * so that the comparison is about the work behind it, not the bytes on the wire.
 */
export const CONSTANT_BODY = JSON.stringify({
  access_token: 'x'.repeat(64),
  token_type: 'bearer',
  expires_in: 3599,
  expires_at: '2030-01-01T00:00:00.000Z',
  profile: 'sales',
  api_base_url: 'http://127.0.0.1:9',
  fingerprint: '0123456789ab',
});
