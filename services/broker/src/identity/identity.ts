import { fingerprint } from '@gtb/logger';
import type { IdpConfig } from './idp-config.js';

/** A caller as the broker sees it once its IdP token has been verified. */
export interface Identity {
  issuer: string;
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
  const clientIdClaim = typeof claims['azp'] === 'string' ? claims['azp'] : claims['client_id'];
  const clientId = typeof clientIdClaim === 'string' && clientIdClaim ? clientIdClaim : undefined;
  const sub = typeof claims['sub'] === 'string' && claims['sub'] ? claims['sub'] : clientId;
  const scopes = typeof claims['scope'] === 'string' ? stringList(claims['scope']) : stringList(claims['scp']);
  const identity: Identity = {
    issuer: idp.issuer,
    // A client-credentials token may carry no `sub` (introspection answers often do not): the
    // client is then the subject. Callers reject an identity with neither before it gets here.
    subject: sub ?? '',
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
