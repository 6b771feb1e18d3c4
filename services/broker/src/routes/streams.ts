import { Router } from 'express';
import { identityOf } from '../http/authenticate.js';
import type { RouteDeps } from './deps.js';
import { authorizeAdmin } from './authorize-admin.js';

/** `GET /v1/streams` (admin): every notification stream as the streamer replicas report it. Channels by fingerprint only. */
export function streamRoutes(deps: RouteDeps): Router {
  const router = Router();
  router.get('/v1/streams', ...deps.auth, async (_req, res) => {
    authorizeAdmin(deps, identityOf(res));
    const state = await deps.streamStates.list();
    res.setHeader('Cache-Control', 'no-store');
    res.json({ now: new Date(deps.now()).toISOString(), ...state });
  });
  return router;
}
