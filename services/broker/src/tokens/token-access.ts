import { GtbError } from '@gtb/errors';
import { NAME_PATTERN } from '@gtb/redis';
import type { Decision, Identity, PolicyPort, TokenPort, CachedToken } from '../ports.js';
import { annotateActiveSpan, startSpan, tracerOf } from '@gtb/tracing';
import type { ProfileRegistry, RegisteredProfile } from './profile-registry.js';

const tracer = tracerOf('gtb.broker');

/** A caller the policy lets use a configured profile, decided but not yet audited. */
export interface Grant {
  identity: Identity;
  profile: RegisteredProfile;
  decision: Decision;
}

export interface TokenAccessDeps {
  policy: Pick<PolicyPort, 'evaluate' | 'audit'>;
  tokens: Pick<TokenPort, 'getToken' | 'cached'>;
  profiles: ProfileRegistry;
  /** Counts denials (`gtb_policy_denials_total{kind="profile"}`). */
  denied: () => void;
}

/**
 * The one way to a Genesys token: syntax of the profile name, then the policy (before existence,
 * so a caller learns nothing about profiles it may not use), then existence, then the token. Every
 * route that hands out a token (`GET /v1/tokens`, token exchange, lease grant and renewal) and the
 * hit path go through it, so each decides with the policy at that moment.
 */
export interface TokenAccess {
  /** Checks and audits; throws ERR_VALIDATION (400), ERR_PROFILE_NOT_ALLOWED (403), ERR_PROFILE_UNKNOWN (404). */
  authorize(identity: Identity, name: unknown): RegisteredProfile;
  /** `authorize`, then the profile's token (from memory, Redis or one cluster-wide mint). */
  token(identity: Identity, name: unknown): Promise<CachedToken>;
  /**
   * For the hit path: the grant when the name is well-formed, the policy allows it and it exists;
   * else undefined. Decides without auditing and without counting a denial (the full path, which
   * then handles the request, does both).
   */
  grant(identity: Identity, name: string): Grant | undefined;
  /** The token of a grant when this process holds a usable one; audits the grant when it does. Never waits. */
  held(grant: Grant): CachedToken | undefined;
}

export function createTokenAccess(deps: TokenAccessDeps): TokenAccess {
  const { policy, tokens, profiles } = deps;

  const authorize = (identity: Identity, name: unknown): RegisteredProfile => {
    assertProfileSyntax(name);
    const span = startSpan(tracer, 'gtb.policy.decide', { attributes: { 'gtb.profile': name } });
    const decision = policy.evaluate(identity, name);
    span.setAttributes({ 'gtb.policy.allowed': decision.allowed, ...(decision.rule ? { 'gtb.policy.rule': decision.rule } : {}) });
    span.end();
    policy.audit(identity, name, decision);
    if (!decision.allowed) {
      deps.denied();
      throw new GtbError('ERR_PROFILE_NOT_ALLOWED', 'this identity may not use the requested profile');
    }
    const profile = profiles.get(name);
    if (!profile) throw new GtbError('ERR_PROFILE_UNKNOWN', `no profile named ${name}`);
    return profile;
  };

  return {
    authorize,
    async token(identity, name) {
      return tokens.getToken(authorize(identity, name).name);
    },
    grant(identity, name) {
      if (!NAME_PATTERN.test(name)) return undefined;
      const decision = policy.evaluate(identity, name);
      if (!decision.allowed) return undefined;
      const profile = profiles.get(name);
      return profile && { identity, profile, decision };
    },
    held(grant) {
      const token = tokens.cached(grant.profile.name);
      if (token) {
        policy.audit(grant.identity, grant.profile.name, grant.decision);
        // The hit path opens no span of its own: it annotates the request's (the HTTP instrumentation's).
        annotateActiveSpan({ 'gtb.profile': grant.profile.name, 'gtb.identity.cache_hit': true, 'gtb.policy.rule': grant.decision.rule, 'gtb.token.source': 'l1', 'gtb.token.fingerprint': token.fingerprint });
      }
      return token;
    },
  };
}

/** Validates the syntax of a profile name without revealing whether it exists (400 ERR_VALIDATION). */
export function assertProfileSyntax(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new GtbError('ERR_VALIDATION', 'profile must be a name of letters, digits, ".", "_" or "-" (at most 64)');
  }
}

/** A configured profile by its path segment, for admin routes (no policy): 400 on bad syntax, 404 when unknown. */
export function findProfile(profiles: ProfileRegistry, name: unknown): RegisteredProfile {
  assertProfileSyntax(name);
  const found = profiles.get(name);
  if (!found) throw new GtbError('ERR_PROFILE_UNKNOWN', `no profile named ${name}`);
  return found;
}
