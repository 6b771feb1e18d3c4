import express, { Router, type RequestHandler } from 'express';
import { GtbError } from '@gtb/errors';
import { tokenBody } from '@gtb/genesys';
import { identityOf } from '../http/authenticate.js';
import type { RouteDeps } from './deps.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
/** Subject token types we verify: an IdP access token, or a JWT/ID token of the same IdPs. */
const SUBJECT_TYPES = new Set([ACCESS_TOKEN, 'urn:ietf:params:oauth:token-type:jwt', 'urn:ietf:params:oauth:token-type:id_token']);

function field(body: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const value = body[name];
  if (value === undefined || value === '') {
    if (required) throw new GtbError('ERR_BAD_REQUEST', `${name} is required`);
    return undefined;
  }
  // A parameter sent twice arrives as an array: RFC 6749 §3.2 says a parameter must not repeat.
  if (typeof value !== 'string') throw new GtbError('ERR_BAD_REQUEST', `${name} must be given exactly once`);
  return value;
}

/**
 * `POST /oauth2/token`: RFC 8693 token exchange. The corporate IdP token is the subject token, the
 * Genesys profile is the audience; the answer is an RFC 8693 §2.2.1 response, errors are RFC 6749.
 */
export function tokenExchangeRoutes(deps: RouteDeps): Router {
  const router = Router();
  /** Reads and checks the request, verifies the subject token; the identity then keys the rate limit. */
  const verify: RequestHandler = async (req, res, next) => {
    if (!req.is('application/x-www-form-urlencoded')) {
      throw new GtbError('ERR_BAD_REQUEST', 'the body must be application/x-www-form-urlencoded');
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const grantType = field(body, 'grant_type', true);
    if (grantType !== TOKEN_EXCHANGE) {
      res.setHeader('Cache-Control', 'no-store');
      res.status(400).json({ error: 'unsupported_grant_type', error_description: `only ${TOKEN_EXCHANGE} is supported` });
      return;
    }
    const subjectToken = field(body, 'subject_token', true)!;
    const subjectType = field(body, 'subject_token_type', true)!;
    if (!SUBJECT_TYPES.has(subjectType)) {
      throw new GtbError('ERR_BAD_REQUEST', `subject_token_type must be one of ${[...SUBJECT_TYPES].join(', ')}`);
    }
    const requested = field(body, 'requested_token_type', false);
    if (requested !== undefined && requested !== ACCESS_TOKEN) {
      throw new GtbError('ERR_BAD_REQUEST', `requested_token_type must be ${ACCESS_TOKEN}`);
    }
    if (field(body, 'actor_token', false) !== undefined) {
      throw new GtbError('ERR_BAD_REQUEST', 'delegation (actor_token) is not supported');
    }
    // The profile may come as `audience` (a logical name) or `resource`; one of them, once.
    const audience = field(body, 'audience', false) ?? field(body, 'resource', false);
    if (audience === undefined) throw new GtbError('ERR_BAD_REQUEST', 'audience (the Genesys profile) is required');
    res.locals.identity = await deps.guard.verify(req, subjectToken);
    res.locals.audience = audience;
    next();
  };

  router.post(
    '/oauth2/token',
    deps.gate,
    express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 20 }),
    verify,
    // Counted per verified caller, like every authenticated route (not per forwarded address).
    deps.rateLimit,
    async (_req, res) => {
      const token = await deps.access.token(identityOf(res), res.locals.audience);
      const out = tokenBody(token, deps.now());
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Pragma', 'no-cache');
      res.json({
        access_token: out.access_token,
        issued_token_type: ACCESS_TOKEN,
        token_type: out.token_type,
        expires_in: out.expires_in,
        profile: out.profile,
        api_base_url: out.api_base_url,
      });
    },
  );
  return router;
}
