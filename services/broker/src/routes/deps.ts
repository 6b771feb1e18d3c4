import { GtbError } from '@gtb/errors';
import { NAME_PATTERN } from '@gtb/redis';
import type { Logger } from '@gtb/logger';
import type { RequestHandler } from 'express';
import type { IdentityPort, PolicyPort, ProfileInfo, TokenPort } from '../ports.js';
import type { LeaseStore } from '../leases/lease-store.js';
import type { BrokerMetrics } from '../metrics.js';

/** Publishes a lifecycle event; failures are the publisher's to log, never the request's. */
export interface EventsPort {
  publish(type: string, subject: string, data: Record<string, unknown>): Promise<unknown>;
}

/** Everything the routes need, built by main.ts or by a test. */
export interface RouteDeps {
  logger: Logger;
  identity: IdentityPort;
  policy: PolicyPort;
  tokens: TokenPort;
  profiles: readonly ProfileInfo[];
  leases: LeaseStore;
  events: EventsPort;
  metrics: BrokerMetrics;
  now: () => number;
  /** How long a revoke waits after `token.rotated` when leases are live, so holders can roll over. */
  leaseGraceMs: number;
  /** Shutdown gate, identity check and per-caller rate limit, in that order. */
  auth: RequestHandler[];
  readiness: () => Promise<{ ready: boolean; checks: Record<string, boolean> }>;
}

/** Validates a profile path segment and returns the configured profile, or throws 400/404. */
export function findProfile(profiles: readonly ProfileInfo[], name: unknown): ProfileInfo {
  assertProfileSyntax(name);
  const found = profiles.find((p) => p.name === name);
  if (!found) throw new GtbError('ERR_PROFILE_UNKNOWN', `no profile named ${name}`);
  return found;
}

/** Validates the syntax of a profile name without revealing whether it exists. */
export function assertProfileSyntax(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new GtbError('ERR_VALIDATION', 'profile must be a name of letters, digits, ".", "_" or "-" (at most 64)');
  }
}
