import express, { Router } from 'express';
import { z } from 'zod';
import { GtbError } from '@gtb/errors';
import { tokenBody } from '@gtb/genesys';
import { identityOf } from '../http/authenticate.js';
import { TOKEN_ROUTE } from '../http/token-route.js';
import type { RouteDeps } from './deps.js';

const rejectedSchema = z.strictObject({ fingerprint: z.string().regex(/^[0-9a-f]{12}$/, 'must be the 12 hex characters of the token\'s fingerprint') });

/**
 * `GET /v1/tokens/{profile}`: the current Genesys token of a profile the caller may use.
 * `POST /v1/tokens/{profile}/rejected`: a holder reports that Genesys rejected the token with that
 * fingerprint (401); the broker confirms with Genesys and replaces it, and answers the current token.
 */
export function tokenRoutes(deps: RouteDeps): Router {
  const router = Router();
  router.get(TOKEN_ROUTE, ...deps.auth, async (req, res) => {
    const token = await deps.access.token(identityOf(res), req.params.profile);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    res.json(tokenBody(token, deps.now()));
  });

  router.post(`${TOKEN_ROUTE}/rejected`, ...deps.auth, express.json({ limit: '1kb', strict: true }), async (req, res) => {
    const profile = deps.access.authorize(identityOf(res), req.params.profile);
    if (!req.is('application/json')) throw new GtbError('ERR_UNSUPPORTED_MEDIA_TYPE', 'the body must be application/json');
    const parsed = rejectedSchema.safeParse(req.body);
    if (!parsed.success) throw new GtbError('ERR_VALIDATION', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    const { token, replaced } = await deps.tokens.replaceRejected(profile.name, parsed.data.fingerprint);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    res.json({ ...tokenBody(token, deps.now()), replaced });
  });
  return router;
}
