import type { RoutingStatusValue, UserModel } from './world.js';

// What an on-queue agent's routing status goes through.
const CYCLE: readonly RoutingStatusValue[] = ['IDLE', 'INTERACTING', 'IDLE', 'COMMUNICATING', 'IDLE', 'NOT_RESPONDING', 'OFF_QUEUE'];

/** Moves the user to the next routing status at `now`. */
export function advanceRoutingStatus(user: UserModel, now: number): void {
  const r = user.routing;
  r.status = CYCLE[r.step % CYCLE.length]!;
  r.step += 1;
  r.startAt = now;
}

/**
 * `eventBody` of `v2.users.{id}.routingStatus`: the SDK's `UserRoutingStatusUserRoutingStatus`.
 * The event time is `routingStatus.startTime` (nested: there is no top-level timestamp).
 */
export function routingStatusEventBody(user: UserModel): Record<string, unknown> {
  return { id: user.id, routingStatus: { status: user.routing.status, startTime: new Date(user.routing.startAt).toISOString() } };
}

/** `GET /api/v2/users/{userId}/routingstatus`: the SDK's `RoutingStatus`. */
export function routingStatusView(user: UserModel): Record<string, unknown> {
  return { userId: user.id, status: user.routing.status, startTime: new Date(user.routing.startAt).toISOString() };
}
