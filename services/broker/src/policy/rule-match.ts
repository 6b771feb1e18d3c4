import type { PolicyRule, RuleMatch } from './policy-config.js';

/** The identity fields the policy looks at (a subset of the verifier's Identity). */
export interface PolicySubject {
  issuer: string;
  /**
   * The token's `sub`; for a token without one, `client:<client id>` (identity/identity.ts), which no
   * `sub` may equal. So a `subject` rule names a user or service account and never matches a bare
   * client by accident; such a client is matched by `clientId`, or explicitly as `client:<id>`.
   */
  subject: string;
  clientId?: string | undefined;
  groups: readonly string[];
  roles: readonly string[];
  scopes: readonly string[];
  tokenFingerprint?: string;
}

const anyOf = (wanted: string | string[], actual: string | undefined): boolean =>
  actual !== undefined && (Array.isArray(wanted) ? wanted.includes(actual) : wanted === actual);

const intersects = (wanted: readonly string[], actual: readonly string[]): boolean => wanted.some((w) => actual.includes(w));

/** The first field of `match` the identity fails, or undefined when it matches. */
export function firstMismatch(match: RuleMatch, who: PolicySubject): keyof RuleMatch | undefined {
  if (match.issuer !== undefined && !anyOf(match.issuer, who.issuer)) return 'issuer';
  if (match.subject !== undefined && !anyOf(match.subject, who.subject)) return 'subject';
  if (match.clientId !== undefined && !anyOf(match.clientId, who.clientId)) return 'clientId';
  if (match.groupsAny !== undefined && !intersects(match.groupsAny, who.groups)) return 'groupsAny';
  if (match.rolesAny !== undefined && !intersects(match.rolesAny, who.roles)) return 'rolesAny';
  if (match.scopesAll !== undefined && !match.scopesAll.every((s) => who.scopes.includes(s))) return 'scopesAll';
  return undefined;
}

/**
 * Whether the rule grants a profile (by name or `*`), as a function built once per rule: a rule may
 * name hundreds of profiles, and a list scanned on every token request made the hit path's cost grow
 * with their number (test/bench, `BENCH_ONLY=growth`); a set's lookup does not.
 */
export function profileGrant(rule: PolicyRule): (profile: string) => boolean {
  if (rule.profiles.includes('*')) return () => true;
  const names = new Set(rule.profiles);
  return (profile) => names.has(profile);
}
