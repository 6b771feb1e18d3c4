import { Router } from 'express';
import { identityOf } from '../http/authenticate.js';
import { tokenBody } from './token-response.js';
import { assertProfileSyntax, findProfile, type RouteDeps } from './deps.js';
import { authorizeProfile } from './authorize-profile.js';

/** The hit path's route (also answered ahead of the stack by http/token-fast-path.ts). */
export const TOKEN_ROUTE = '/v1/tokens/:profile';

/** `GET /v1/tokens/{profile}`: the current Genesys token of a profile the caller may use. */
export function tokenRoutes(deps: RouteDeps): Router {
  const router = Router();
  router.get(TOKEN_ROUTE, ...deps.auth, async (req, res) => {
    const profile = req.params.profile;
    assertProfileSyntax(profile);
    authorizeProfile(deps, identityOf(res), profile);
    findProfile(deps.profiles, profile);
    const token = await deps.tokens.getToken(profile);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    res.json(tokenBody(token, deps.now()));
  });
  return router;
}
