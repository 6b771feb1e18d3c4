import { Router, type Request } from 'express';
import { fingerprint } from '@gtb/logger';
import { authenticateClient } from '../clients.js';
import type { SandboxState } from '../state.js';
import { countRejected, mintToken } from '../tokens.js';
import { hasMediaType, rawBody } from './body.js';
import { OAuthError, sendOAuthError } from './genesys-error.js';

/**
 * `POST /oauth/token`, client-credentials grant only: HTTP Basic client authentication and a
 * form body, as the SDKs send it. Body credentials are refused (unverified upstream, and the
 * stricter choice catches clients that would break against the real login host).
 */
export function oauthTokenRouter(state: SandboxState): Router {
  const router = Router();
  router.post('/oauth/token', (req, res) => {
    const { logger } = state.options;
    if (!hasMediaType(req, 'application/x-www-form-urlencoded')) {
      throw new OAuthError(400, 'invalid_request', 'content type must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(rawBody(req).toString('utf8'));
    const grantType = form.get('grant_type');
    if (!grantType) throw new OAuthError(400, 'invalid_request', 'missing grant_type');
    const credentials = basicCredentials(req);
    if (!credentials) {
      state.counters.tokenRequestsInvalidClient += 1;
      throw new OAuthError(state.options.invalidClientStatus, 'invalid_client', 'client authentication required (HTTP Basic)');
    }
    const client = authenticateClient(state, credentials.id, credentials.secret);
    if (!client) {
      state.counters.tokenRequestsInvalidClient += 1;
      logger.info({ clientId: credentials.id }, 'token refused: bad client credentials');
      throw new OAuthError(state.options.invalidClientStatus, 'invalid_client', 'client not found');
    }
    if (grantType !== 'client_credentials') {
      throw new OAuthError(400, 'unsupported_grant_type', `grant type ${grantType.slice(0, 50)} is not supported`);
    }
    const throttled = state.faults.take('token-throttle', (f) => f.clientId === undefined || f.clientId === client.clientId);
    const window = state.tokenWindow.hit(client.clientId);
    if (throttled || !window.allowed) {
      countRejected(state, client.clientId);
      logger.info({ clientId: client.clientId, fault: Boolean(throttled) }, 'token refused: rate limit');
      // The login host throttles with a 400, not a 429 (docs/genesys-behaviour.md § Token endpoint throttling).
      throw new OAuthError(400, 'invalid_request', `rate limit exceeded; client ${client.clientId} may request ${window.limit} tokens per minute`);
    }
    const token = mintToken(state, client);
    logger.info({ clientId: client.clientId, tokenFingerprint: fingerprint(token.token) }, 'token minted');
    res.setHeader('Cache-Control', 'no-store');
    res.status(200).json({ access_token: token.token, token_type: 'bearer', expires_in: client.tokenLifetimeSeconds });
  });
  router.all('/oauth/token', (_req, res) => {
    sendOAuthError(res, new OAuthError(405, 'invalid_request', 'use POST'));
  });
  return router;
}

function basicCredentials(req: Request): { id: string; secret: string } | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64; Genesys ids and secrets never need it.
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  } catch {
    return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  }
}
