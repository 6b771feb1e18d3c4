import { timingSafeEqual } from 'node:crypto';
import { GtbError } from '@gtb/errors';
import { newClientSecret, newUuid } from './ids.js';
import { MAX_TOKEN_LIFETIME_S, type ClientSpec } from './options.js';
import type { OAuthClient, SandboxState } from './state.js';

/** Creates (or replaces) an OAuth client; throws ERR_VALIDATION on a bad spec. */
export function createClient(state: SandboxState, spec: ClientSpec = {}, seeded = false): OAuthClient {
  const { randomBytes, now, defaultTokenLifetimeSeconds, minTokenLifetimeSeconds } = state.options;
  const lifetime = spec.tokenLifetimeSeconds ?? defaultTokenLifetimeSeconds;
  if (!Number.isInteger(lifetime) || lifetime < minTokenLifetimeSeconds || lifetime > MAX_TOKEN_LIFETIME_S) {
    throw new GtbError('ERR_VALIDATION', `tokenLifetimeSeconds must be an integer in ${minTokenLifetimeSeconds}..${MAX_TOKEN_LIFETIME_S}`);
  }
  for (const key of ['clientId', 'clientSecret', 'name'] as const) {
    const v = spec[key];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0 || v.length > 200 || v.includes(':') && key === 'clientId')) {
      throw new GtbError('ERR_VALIDATION', `${key} must be a non-empty string of at most 200 characters${key === 'clientId' ? ' without ":"' : ''}`);
    }
  }
  const allowed = spec.allowedTopics ?? ['*'];
  if (!Array.isArray(allowed) || allowed.some((p) => typeof p !== 'string' || p.length === 0)) {
    throw new GtbError('ERR_VALIDATION', 'allowedTopics must be a list of non-empty patterns');
  }
  const client: OAuthClient = {
    clientId: spec.clientId ?? newUuid(randomBytes),
    clientSecret: spec.clientSecret ?? newClientSecret(randomBytes),
    name: spec.name ?? 'sandbox client',
    tokenLifetimeSeconds: lifetime,
    allowedTopics: [...allowed],
    createdAt: now(),
    seeded,
  };
  state.clients.set(client.clientId, client);
  return client;
}

/** The client whose id and secret match, or undefined; compares secrets in constant time. */
export function authenticateClient(state: SandboxState, clientId: string, clientSecret: string): OAuthClient | undefined {
  const client = state.clients.get(clientId);
  if (!client) return undefined;
  const a = Buffer.from(client.clientSecret);
  const b = Buffer.from(clientSecret);
  return a.length === b.length && timingSafeEqual(a, b) ? client : undefined;
}
