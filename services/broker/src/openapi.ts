import { NAME_PATTERN } from '@gtb/redis';

/**
 * The broker's API description (OpenAPI 3.1). A test compares its paths and methods with the routes
 * the app really registers, so the two cannot drift apart.
 */
const problem = { $ref: '#/components/responses/Problem' };
const bearer = [{ idpBearer: [] }];
const profileParam = { name: 'profile', in: 'path', required: true, schema: { type: 'string', pattern: NAME_PATTERN.source } };
const leaseIdParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const tokenRef = { $ref: '#/components/schemas/Token' };
const leaseRef = { $ref: '#/components/schemas/LeaseWithToken' };
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), problem]));

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Genesys token broker',
    version: '0.1.0',
    description: 'Corporate IdP tokens in, Genesys Cloud client-credentials tokens out. Errors on /v1 are RFC 9457 problem documents with a stable `code`; on /oauth2/token they are RFC 6749 error bodies.',
  },
  components: {
    securitySchemes: { idpBearer: { type: 'http', scheme: 'bearer', description: 'An access token of a configured corporate IdP' } },
    responses: {
      Problem: { description: 'An error', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
    },
    schemas: {
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'code'],
        properties: {
          type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, code: { type: 'string' },
          detail: { type: 'string' }, instance: { type: 'string' }, requestId: { type: 'string' }, retryAfter: { type: 'integer' },
        },
      },
      Token: {
        type: 'object',
        required: ['access_token', 'token_type', 'expires_in', 'expires_at', 'profile', 'api_base_url', 'fingerprint'],
        properties: {
          access_token: { type: 'string' }, token_type: { type: 'string', enum: ['Bearer'] }, expires_in: { type: 'integer' },
          expires_at: { type: 'string', format: 'date-time' }, profile: { type: 'string' }, api_base_url: { type: 'string', format: 'uri' },
          fingerprint: { type: 'string', description: 'first 12 hex digits of the token\'s SHA-256' },
        },
      },
      Lease: {
        type: 'object',
        required: ['lease_id', 'profile', 'holder', 'lease_expires_at', 'renew_after'],
        properties: {
          lease_id: { type: 'string', format: 'uuid' }, profile: { type: 'string' }, holder: { type: 'string' },
          lease_expires_at: { type: 'string', format: 'date-time' }, renew_after: { type: 'string', format: 'date-time' },
        },
      },
      LeaseWithToken: { allOf: [{ $ref: '#/components/schemas/Lease' }, { $ref: '#/components/schemas/Token' }] },
    },
  },
  paths: {
    '/v1/tokens/{profile}': {
      get: {
        summary: 'The current Genesys token of a profile', security: bearer, parameters: [profileParam],
        responses: { 200: { description: 'The token (Cache-Control: no-store)', content: { 'application/json': { schema: tokenRef } } }, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    '/v1/tokens/{profile}/rejected': {
      post: {
        summary: 'Report that Genesys rejected this token (401): the broker confirms with Genesys, replaces it, and answers the current token',
        security: bearer, parameters: [profileParam],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['fingerprint'], additionalProperties: false, properties: { fingerprint: { type: 'string', pattern: '^[0-9a-f]{12}$' } } } } } },
        responses: { 200: { description: 'The current token, with `replaced` true when this report replaced it', content: { 'application/json': { schema: tokenRef } } }, ...errors(400, 401, 403, 404, 415, 429, 503) },
      },
    },
    '/oauth2/token': {
      post: {
        summary: 'RFC 8693 token exchange: a corporate IdP token for a Genesys token',
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object', required: ['grant_type', 'subject_token', 'subject_token_type', 'audience'],
                properties: {
                  grant_type: { const: 'urn:ietf:params:oauth:grant-type:token-exchange' },
                  subject_token: { type: 'string' },
                  subject_token_type: { enum: ['urn:ietf:params:oauth:token-type:access_token', 'urn:ietf:params:oauth:token-type:jwt', 'urn:ietf:params:oauth:token-type:id_token'] },
                  audience: { type: 'string', description: 'the Genesys profile' },
                  resource: { type: 'string', description: 'alternative to audience' },
                  requested_token_type: { const: 'urn:ietf:params:oauth:token-type:access_token' },
                },
              },
            },
          },
        },
        responses: {
          200: { description: 'RFC 8693 §2.2.1 response', content: { 'application/json': { schema: { type: 'object', required: ['access_token', 'issued_token_type', 'token_type', 'expires_in'] } } } },
          400: { description: 'RFC 6749 error', content: { 'application/json': { schema: { type: 'object', required: ['error'], properties: { error: { type: 'string' }, error_description: { type: 'string' } } } } } },
          503: { description: 'RFC 6749 error, with Retry-After' },
        },
      },
    },
    '/v1/leases': {
      post: {
        summary: 'Lease a profile\'s token (long-lived consumers such as the streamer)', security: bearer,
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['profile', 'holder'], properties: { profile: { type: 'string' }, holder: { type: 'string' }, ttl_seconds: { type: 'integer' } } } } } },
        responses: { 201: { description: 'The lease and the current token', content: { 'application/json': { schema: leaseRef } } }, ...errors(400, 401, 403, 404, 415, 503) },
      },
      get: {
        summary: 'Live leases (admin), with their owner (`issuer|subject`) and grant time', security: bearer,
        responses: { 200: { description: 'Leases, never tokens', content: { 'application/json': { schema: { type: 'object', properties: { leases: { type: 'array', items: { $ref: '#/components/schemas/Lease' } } } } } } }, ...errors(401, 403) },
      },
    },
    '/v1/leases/{id}/renew': {
      post: { summary: 'Extend a lease; returns the current, possibly rotated, token', security: bearer, parameters: [leaseIdParam], responses: { 200: { description: 'Renewed', content: { 'application/json': { schema: leaseRef } } }, ...errors(400, 401, 404, 503) } },
    },
    '/v1/leases/{id}': {
      delete: { summary: 'Release a lease', security: bearer, parameters: [leaseIdParam], responses: { 204: { description: 'Released' }, ...errors(400, 401, 404) } },
    },
    '/v1/profiles': {
      get: { summary: 'Profiles and their cache state (admin): fingerprint, expiry, planned refresh, cooldown, circuit, live leases, the last mint (when, which replica, how long) and mints per hour over 24 h; never token values', security: bearer, responses: { 200: { description: 'Profiles' }, ...errors(401, 403) } },
    },
    '/v1/profiles/{profile}/rotate': {
      post: { summary: 'Mint a new token now (admin); lease holders hear token.rotated', security: bearer, parameters: [profileParam], responses: { 200: { description: 'The new token\'s fingerprint and expiry' }, ...errors(401, 403, 404, 503) } },
    },
    '/v1/profiles/{profile}/token': {
      delete: { summary: 'Revoke the token at Genesys and purge it (admin); lease holders roll over first', security: bearer, parameters: [profileParam], responses: { 204: { description: 'Revoked' }, ...errors(401, 403, 404, 503) } },
    },
    '/v1/streams': {
      get: {
        summary: 'Notification streams as the streamer replicas report them through Redis (admin): owner and HA mode, sockets, channel (by fingerprint) age and expiry, topics, events per second, lag, rollovers by trigger, recent gaps with their bounds, last event; a replica that missed three heartbeats is `alive: false`',
        security: bearer, responses: { 200: { description: 'Replicas and streams; channel ids never, only fingerprints' }, ...errors(401, 403) },
      },
    },
    '/v1/events': {
      get: {
        summary: 'The recent lifecycle events of the gtb:lifecycle stream, oldest first (admin)', security: bearer,
        parameters: [
          { name: 'count', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 300 } },
          { name: 'type', in: 'query', description: 'comma-separated event types', schema: { type: 'string' } },
          { name: 'profile', in: 'query', description: 'comma-separated profiles', schema: { type: 'string' } },
          { name: 'stream', in: 'query', description: 'comma-separated streams', schema: { type: 'string' } },
        ],
        responses: { 200: { description: '`{events: [{id, event}]}`: `id` is the lifecycle stream id, `event` the CloudEvent' }, ...errors(400, 401, 403) },
      },
    },
    '/v1/events/stream': {
      get: {
        summary: 'The lifecycle events live, as server-sent events (admin). Send the bearer in Authorization (read with fetch: EventSource cannot); resumes after `Last-Event-ID` or `since`; ends with an `expired` event when the IdP token does',
        security: bearer,
        parameters: [
          { name: 'since', in: 'query', description: 'a lifecycle stream id to resume after', schema: { type: 'string', pattern: '^\\d+-\\d+$' } },
          { name: 'type', in: 'query', schema: { type: 'string' } },
          { name: 'profile', in: 'query', schema: { type: 'string' } },
          { name: 'stream', in: 'query', schema: { type: 'string' } },
        ],
        responses: { 200: { description: '`text/event-stream`: `event: lifecycle`, `id` the stream id, `data` the CloudEvent JSON', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errors(400, 401, 403) },
      },
    },
    '/healthz': { get: { summary: 'Liveness', responses: { 200: { description: 'Alive' } } } },
    '/readyz': { get: { summary: 'Readiness: Redis reachable, IdP keys loaded', responses: { 200: { description: 'Ready' }, 503: { description: 'Not ready' } } } },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'Text exposition format' } } } },
    '/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
  },
} as const;
