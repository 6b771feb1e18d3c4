import { Router } from 'express';
import { fingerprint } from '@gtb/logger';
import type { SandboxState } from '../state.js';
import { revokeToken } from '../tokens.js';
import { authOf } from './api-auth.js';

/** The organisation every sandbox client belongs to. */
export const SANDBOX_ORGANIZATION = { id: '5e2f3c1a-0b7d-4c59-9a43-5a4d1b0c0a11', name: 'Genesys Cloud Sandbox', selfUri: '/api/v2/organizations/5e2f3c1a-0b7d-4c59-9a43-5a4d1b0c0a11' };

/** `GET|HEAD|DELETE /api/v2/tokens/me`. */
export function tokensMeRouter(state: SandboxState): Router {
  const router = Router();
  router.head('/tokens/me', (_req, res) => {
    res.status(200).end();
  });
  router.get('/tokens/me', (_req, res) => {
    const { client, token } = authOf(res);
    res.json({
      organization: SANDBOX_ORGANIZATION,
      homeOrganization: SANDBOX_ORGANIZATION,
      authorizedScope: ['notifications'],
      OAuthClient: {
        id: client.clientId,
        name: client.name,
        dateCreated: new Date(client.createdAt).toISOString(),
        authorizedGrantType: 'CLIENT_CREDENTIALS',
        accessTokenValiditySeconds: client.tokenLifetimeSeconds,
        scope: [],
        roleDivisions: [],
        state: 'active',
        organization: SANDBOX_ORGANIZATION,
        selfUri: `/api/v2/oauth/clients/${client.clientId}`,
      },
      // Not a Genesys field: lets tests see the expiry the sandbox enforces.
      expiresAt: new Date(token.expiresAt).toISOString(),
    });
  });
  router.delete('/tokens/me', (_req, res) => {
    const { token } = authOf(res);
    revokeToken(state, token);
    state.options.logger.info({ tokenFingerprint: fingerprint(token.token) }, 'token revoked by its holder');
    res.status(200).end();
  });
  return router;
}
