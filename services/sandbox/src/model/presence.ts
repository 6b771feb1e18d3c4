import type { SystemPresence, UserModel } from './world.js';

/**
 * The org's system presence definitions. Real orgs have their own ids; these are fixed sandbox
 * ids so that snapshots and events of one run agree.
 */
export const PRESENCE_DEFINITIONS: Readonly<Record<SystemPresence, string>> = {
  AVAILABLE: '6a3af858-942f-489d-9700-5f9bcdcdae9b',
  AWAY: '5e5c5c66-ea97-4e1f-ac41-6fb8f2d1b3b5',
  BUSY: '31fe3bac-dea6-44b7-bed7-47f91660a1a0',
  BREAK: 'a1f2e8c1-7e5b-4a4c-9a44-0d3b1c6e2b10',
  MEAL: '3fd96123-badb-4f69-bc03-1b1ccc6d8014',
  MEETING: '3b894b9d-10f8-4c4a-8f1d-7e1f3f2e5a62',
  TRAINING: '0d6a2c8e-5b1f-4e7a-9c3d-2f4b6a8c0e11',
  ON_QUEUE: 'e08eaf1b-ee47-4fa9-a231-1200e284798f',
  IDLE: '7a1b9c3d-2e4f-4a6b-8c0d-1e2f3a4b5c6d',
  OFFLINE: 'ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5',
};

/** The PURECLOUD presence source (`GET /users/{id}/presences/purecloud` is an alias of it). */
export const PURECLOUD_SOURCE = { source: 'PURECLOUD', sourceId: 'b2f3c4d5-e6f7-4a8b-9c0d-1e2f3a4b5c6d' } as const;

// A working day, round and round: what an agent's presence goes through.
const CYCLE: readonly SystemPresence[] = ['AVAILABLE', 'ON_QUEUE', 'BUSY', 'ON_QUEUE', 'BREAK', 'ON_QUEUE', 'MEAL', 'AVAILABLE', 'MEETING', 'AWAY', 'OFFLINE'];

/** Moves the user to the next presence at `now`. */
export function advancePresence(user: UserModel, now: number): void {
  const p = user.presence;
  p.systemPresence = CYCLE[p.step % CYCLE.length]!;
  p.step += 1;
  p.modifiedAt = now;
}

function definition(systemPresence: SystemPresence, withSelfUri: boolean) {
  const id = PRESENCE_DEFINITIONS[systemPresence];
  return withSelfUri ? { id, systemPresence, selfUri: `/api/v2/presencedefinitions/${id}` } : { id, systemPresence };
}

/** `eventBody` of `v2.users.{id}.presence`: the SDK's `PresenceEventUserPresence`. `modifiedDate` is the event time. */
export function presenceEventBody(user: UserModel): Record<string, unknown> {
  const p = user.presence;
  return {
    source: PURECLOUD_SOURCE.source,
    presenceDefinition: definition(p.systemPresence, false),
    primary: true,
    message: p.message,
    modifiedDate: new Date(p.modifiedAt).toISOString(),
  };
}

/** `GET /api/v2/users/{userId}/presences/purecloud`: the SDK's `UserPresence`. */
export function userPresenceView(user: UserModel): Record<string, unknown> {
  const p = user.presence;
  return {
    name: p.systemPresence,
    source: PURECLOUD_SOURCE.source,
    sourceId: PURECLOUD_SOURCE.sourceId,
    primary: true,
    presenceDefinition: definition(p.systemPresence, true),
    message: p.message,
    modifiedDate: new Date(p.modifiedAt).toISOString(),
    selfUri: `/api/v2/users/${user.id}/presences/purecloud`,
  };
}

/** An element of `GET /api/v2/users/presences/purecloud/bulk`: the SDK's `UcUserPresence`. */
export function ucUserPresenceView(user: UserModel): Record<string, unknown> {
  const p = user.presence;
  return {
    userId: user.id,
    source: PURECLOUD_SOURCE.source,
    sourceId: PURECLOUD_SOURCE.sourceId,
    presenceDefinition: definition(p.systemPresence, true),
    message: p.message,
    modifiedDate: new Date(p.modifiedAt).toISOString(),
  };
}
