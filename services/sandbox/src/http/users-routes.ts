import { Router } from 'express';
import { PURECLOUD_SOURCE, ucUserPresenceView, userPresenceView } from '../model/presence.js';
import { routingStatusView } from '../model/routing-status.js';
import { userOf } from '../model/world.js';
import type { SandboxState } from '../state.js';
import { GenesysError } from './genesys-error.js';

// `GET /users/presences/purecloud/bulk` takes at most this many ids (the SDK's doc: "Limit 50").
const BULK_LIMIT = 50;

/**
 * Snapshots of users' presence and routing status, from the state the generated events change:
 * `GET /users/{userId}/presences/purecloud` (and `/presences/{sourceId}` for the PURECLOUD source),
 * `GET /users/presences/purecloud/bulk?id=…`, `GET /users/{userId}/routingstatus`. Any user id
 * exists; one never seen is OFFLINE and OFF_QUEUE since it was first asked for.
 */
export function usersRouter(state: SandboxState): Router {
  const router = Router();
  const now = () => state.options.now();
  router.get('/users/presences/purecloud/bulk', (req, res) => {
    const raw = req.query.id;
    const ids = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw])
      .flatMap((v) => String(v).split(','))
      .map((v) => v.trim())
      .filter(Boolean);
    if (ids.length > BULK_LIMIT) throw new GenesysError(400, 'bad.request', `At most ${BULK_LIMIT} user ids may be requested at once.`);
    res.json([...new Set(ids)].map((id) => ucUserPresenceView(userOf(state.world, id, now()))));
  });
  router.get('/users/:userId/presences/:sourceId', (req, res) => {
    const { userId, sourceId } = req.params;
    if (sourceId !== 'purecloud' && sourceId !== PURECLOUD_SOURCE.sourceId) {
      throw new GenesysError(404, 'not.found', `Presence source ${sourceId.slice(0, 100)} not found.`);
    }
    res.json(userPresenceView(userOf(state.world, userId, now())));
  });
  router.get('/users/:userId/routingstatus', (req, res) => {
    res.json(routingStatusView(userOf(state.world, req.params.userId, now())));
  });
  return router;
}
