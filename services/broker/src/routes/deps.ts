import type { Logger } from '@gtb/logger';
import type { EventPublisher } from '@gtb/events';
import type { RequestHandler } from 'express';
import type { IdentityPort, PolicyPort, TokenPort } from '../ports.js';
import type { ProfileRegistry } from '../tokens/profile-registry.js';
import type { TokenAccess } from '../tokens/token-access.js';
import type { AuthGuard } from '../http/auth-guard.js';
import type { LeaseStore } from '../leases/lease-store.js';
import type { BrokerMetrics } from '../metrics.js';
import type { MintHistory } from '../tokens/mint-history.js';
import type { LifecycleFeed } from '../events/lifecycle-feed.js';
import type { StreamStates } from '../streams/stream-states.js';
import type { ConsoleSettings } from '../console/console-settings.js';

/** Everything the routes need, built by main.ts or by a test. */
export interface RouteDeps {
  logger: Logger;
  identity: IdentityPort;
  policy: PolicyPort;
  tokens: TokenPort;
  profiles: ProfileRegistry;
  /** The one way to a token: policy, profile, token (tokens/token-access.ts). */
  access: TokenAccess;
  leases: LeaseStore;
  /** Lifecycle events; `tryPublish` never fails the request (the publisher logs a lost event). */
  events: Pick<EventPublisher, 'tryPublish'>;
  metrics: BrokerMetrics;
  now: () => number;
  /** How long a revoke waits after `token.rotated` when leases are live, so holders can roll over. */
  leaseGraceMs: number;
  /** Shutdown gate, the pre-authentication limit, identity check and per-caller rate limit, in that order. */
  auth: RequestHandler[];
  /** Verifies an IdP token behind the limit on failed authentications (http/auth-guard.ts). */
  guard: AuthGuard;
  /** The shutdown gate alone, for a route that verifies its token itself (token exchange). */
  gate: RequestHandler;
  /** The per-caller rate limit (keyed by the verified identity on `res.locals.identity`). */
  rateLimit: RequestHandler;
  readiness: () => Promise<{ ready: boolean; checks: Record<string, boolean> }>;
  /** A day of upstream mints per profile (the console's last mint and mints per hour). */
  mintHistory: Pick<MintHistory, 'summary'>;
  /** The lifecycle stream: recent events and a live tail (`/v1/events`). */
  feed: LifecycleFeed;
  /** What the streamer replicas report (`/v1/streams`). */
  streamStates: StreamStates;
  /** The operator console's sign-in settings; the console is not served when absent. */
  console?: ConsoleSettings | undefined;
}
