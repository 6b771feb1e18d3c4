import { fingerprint } from '@gtb/logger';
import type { IdpConfig } from './idp-config.js';
import { clientIdOf } from './token-kind.js';
import { reject } from './rejection.js';

/** The subject prefix of a client principal (a token with no `sub`): `client:<client id>`. */
export const CLIENT_SUBJECT_PREFIX = 'client:';

/** A caller as the broker sees it once its IdP token has been verified. */
export interface Identity {
  issuer: string;
  /**
   * `user`: the token names a subject (`sub`), a person or a service account of the IdP. `client`:
   * it names none (a client-credentials token, often an introspection answer), only the OAuth client.
   */
  principal: 'user' | 'client';
  /** `sub` for a user; `client:<client id>` for a client, so that the two can never be equal. */
  subject: string;
  /** `azp` or `client_id`: the OAuth client the token was issued to. */
  clientId?: string;
  groups: string[];
  roles: string[];
  scopes: string[];
  /** When the token ends, in epoch milliseconds. */
  expiresAt: number;
  /** The verified claims (or introspection answer), for policy extensions and audit. */
  claims: Record<string, unknown>;
  /** First 12 hex of the token's SHA-256: what logs carry instead of the token. */
  tokenFingerprint: string;
}

/** Reads a claim by dot path (`realm_access.roles`). */
function claimAt(claims: Record<string, unknown>, path: string): unknown {
  let node: unknown = claims;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** A list claim as strings: arrays keep their string items, a lone string is split on spaces. */
function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0);
  return [];
}

/** Builds the normalized identity from verified claims of one IdP. */
export function toIdentity(
  idp: Pick<IdpConfig, 'issuer' | 'claims'>,
  claims: Record<string, unknown>,
  token: string,
  expiresAt: number,
): Identity {
  const clientId = clientIdOf(claims);
  const sub = typeof claims['sub'] === 'string' && claims['sub'] ? claims['sub'] : undefined;
  // Without a `sub`, the subject used to be the bare client id: a client whose id equals a user's
  // `sub` would then be that user to every `subject` rule, rate limit and lease owner. The client is
  // a principal of its own, in a namespace no `sub` may enter: a `sub` that starts with the prefix
  // is refused (no IdP we know issues such subjects), and no token without either is accepted.
  if (sub === undefined && clientId === undefined) throw reject('ERR_IDP_TOKEN_INVALID', 'subject', { message: 'token names no subject and no client' });
  if (sub?.startsWith(CLIENT_SUBJECT_PREFIX)) throw reject('ERR_IDP_TOKEN_INVALID', 'subject', { message: `a subject may not start with ${CLIENT_SUBJECT_PREFIX}` });
  const scopes = typeof claims['scope'] === 'string' ? stringList(claims['scope']) : stringList(claims['scp']);
  const identity: Identity = {
    issuer: idp.issuer,
    principal: sub === undefined ? 'client' : 'user',
    subject: sub ?? `${CLIENT_SUBJECT_PREFIX}${clientId!}`,
    groups: stringList(claimAt(claims, idp.claims.groups)),
    roles: stringList(claimAt(claims, idp.claims.roles)),
    scopes,
    expiresAt,
    claims,
    tokenFingerprint: fingerprint(token),
  };
  if (clientId !== undefined) identity.clientId = clientId;
  return identity;
}
