import { Router } from 'express';
import { identityOf } from '../http/authenticate.js';
import { tokenBody } from './token-response.js';
import { assertProfileSyntax, findProfile, type RouteDeps } from './deps.js';
import { authorizeProfile } from './authorize-profile.js';

/** `GET /v1/tokens/{profile}`: the current Genesys token of a profile the caller may use. */
export function tokenRoutes(deps: RouteDeps): Router {
  const router = Router();
  router.get('/v1/tokens/:profile', ...deps.auth, async (req, res) => {
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
