import { Router } from 'express';
import { tokenBody } from '@gtb/genesys';
import { identityOf } from '../http/authenticate.js';
import { TOKEN_ROUTE } from '../http/token-route.js';
import type { RouteDeps } from './deps.js';

/** `GET /v1/tokens/{profile}`: the current Genesys token of a profile the caller may use. */
export function tokenRoutes(deps: RouteDeps): Router {
  const router = Router();
  router.get(TOKEN_ROUTE, ...deps.auth, async (req, res) => {
    const token = await deps.access.token(identityOf(res), req.params.profile);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    res.json(tokenBody(token, deps.now()));
  });
  return router;
}
