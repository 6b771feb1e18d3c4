import type { Request, Response, NextFunction, RequestHandler } from 'express';
import { GtbError } from '@gtb/errors';
import { bearerToken } from '../identity/index.js';
import type { Identity, IdentityPort } from '../ports.js';

/** Verifies the caller's IdP token and puts the Identity on `res.locals.identity`. */
export function authenticate(identity: IdentityPort): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const verified = await identity.verify(bearerToken(req.headers.authorization));
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
