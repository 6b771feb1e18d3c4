import type { Request, Response, NextFunction, RequestHandler } from 'express';
import { GtbError } from '@gtb/errors';
import type { Identity, IdentityPort } from '../ports.js';

/** Reads `Authorization: Bearer <token>`; throws the identity codes on a missing or malformed header. */
export function readBearer(header: string | undefined): string {
  if (!header) throw new GtbError('ERR_IDP_TOKEN_MISSING', 'Authorization: Bearer <token> is required');
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  if (!match) throw new GtbError('ERR_IDP_TOKEN_MALFORMED', 'Authorization header must be "Bearer <token>"');
  return match[1]!;
}

/** Verifies the caller's IdP token and puts the Identity on `res.locals.identity`. */
export function authenticate(identity: IdentityPort): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const verified = await identity.verify(readBearer(req.get('authorization')));
    res.locals.identity = verified;
    next();
  };
}

/** The identity the authenticate middleware verified. */
export function identityOf(res: Response): Identity {
  const id = res.locals.identity as Identity | undefined;
  if (!id) throw new GtbError('ERR_INTERNAL', 'route used without authenticate()');
  return id;
}
