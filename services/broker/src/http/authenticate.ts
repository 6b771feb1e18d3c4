import type { Request, Response, NextFunction, RequestHandler } from 'express';
import { GtbError } from '@gtb/errors';
import { bearerToken } from '../identity/index.js';
import type { Identity } from '../ports.js';
import type { AuthGuard } from './auth-guard.js';

/** Verifies the caller's IdP token (through the failed-authentication limit) and puts the Identity on `res.locals.identity`. */
export function authenticate(guard: AuthGuard): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    let token: string;
    try {
      token = bearerToken(req.headers.authorization);
    } catch (err) {
      await guard.failed(req, err);
      throw err;
    }
    res.locals.identity = await guard.verify(req, token);
    next();
  };
}

/** The identity the authenticate middleware verified. */
export function identityOf(res: Response): Identity {
  const id = res.locals.identity as Identity | undefined;
  if (!id) throw new GtbError('ERR_INTERNAL', 'route used without authenticate()');
  return id;
}
