import { GtbError } from '@gtb/errors';
import type { Identity } from '../ports.js';
import type { RouteDeps } from './deps.js';

/**
 * The admin check (profile decisions are tokens/token-access.ts's); counted as a denial when it
 * fails. Admin rights manage profiles and leases; they never read a token of a profile the
 * caller's rule does not grant.
 */
export function authorizeAdmin(deps: Pick<RouteDeps, 'policy' | 'metrics'>, identity: Identity): void {
  if (!deps.policy.isAdmin(identity).allowed) {
    deps.metrics.policyDenials.inc({ kind: 'admin' });
    throw new GtbError('ERR_ADMIN_REQUIRED', 'administrator rights required');
  }
}
