import { GtbError } from '@gtb/errors';
import type { Identity } from '../ports.js';
import type { RouteDeps } from './deps.js';

/**
 * The policy check for one profile. It runs before the profile's existence is checked, so that a
 * caller learns nothing about profiles it may not use. Denials are counted; the reason is in the
 * policy's audit line, never in the response.
 */
export function authorizeProfile(deps: RouteDeps, identity: Identity, profile: string): void {
  const decision = deps.policy.decide(identity, profile);
  if (!decision.allowed) {
    deps.metrics.policyDenials.inc({ kind: 'profile' });
    throw new GtbError('ERR_PROFILE_NOT_ALLOWED', 'this identity may not use the requested profile');
  }
}

/** The admin check; counted as a denial when it fails. */
export function authorizeAdmin(deps: RouteDeps, identity: Identity): void {
  if (!deps.policy.isAdmin(identity).allowed) {
    deps.metrics.policyDenials.inc({ kind: 'admin' });
    throw new GtbError('ERR_ADMIN_REQUIRED', 'administrator rights required');
  }
}
