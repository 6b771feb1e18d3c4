import express, { Router, type Response } from 'express';
import { z } from 'zod';
import { GtbError } from '@gtb/errors';
import { identityOf } from '../http/authenticate.js';
import { tokenBody } from '@gtb/genesys';
import type { RouteDeps } from './deps.js';
import { authorizeAdmin } from './authorize-admin.js';
import { leaseEventData, type Lease } from '../leases/lease-store.js';
import type { Identity } from '../ports.js';

const grantSchema = z.object({
  profile: z.string(),
  holder: z.string().min(1).max(200).regex(/^[\x20-\x7e]+$/, 'printable ASCII only'),
  ttl_seconds: z.number().int().positive().optional(),
}).strict();

const LEASE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const ownerOf = (identity: Identity) => `${identity.issuer}|${identity.subject}`;

function leaseBody(lease: Lease) {
  return {
    lease_id: lease.id,
    profile: lease.profile,
    holder: lease.holder,
    lease_expires_at: new Date(lease.expiresAt).toISOString(),
    // Renew at half the lease, so that one failed renewal still leaves time for a second.
    renew_after: new Date(lease.renewedAt + Math.floor(lease.ttlMs / 2)).toISOString(),
  };
}

/** `POST /v1/leases`, `POST /v1/leases/{id}/renew`, `DELETE /v1/leases/{id}`, `GET /v1/leases`. */
export function leaseRoutes(deps: RouteDeps): Router {
  const router = Router();
  const auth = deps.auth;
  const json = express.json({ limit: '8kb', strict: true });

  async function ownedLease(res: Response, id: unknown): Promise<Lease> {
    if (typeof id !== 'string' || !LEASE_ID.test(id)) throw new GtbError('ERR_VALIDATION', 'lease id must be a UUID');
    const lease = await deps.leases.get(id);
    if (!lease) throw new GtbError('ERR_LEASE_NOT_FOUND', 'no such lease');
    const identity = identityOf(res);
    if (lease.owner !== ownerOf(identity) && !deps.policy.isAdmin(identity).allowed) {
      // Another caller's lease looks like no lease at all.
      throw new GtbError('ERR_LEASE_NOT_FOUND', 'no such lease');
    }
    return lease;
  }

  router.post('/v1/leases', ...auth, json, async (req, res) => {
    if (!req.is('application/json')) throw new GtbError('ERR_UNSUPPORTED_MEDIA_TYPE', 'the body must be application/json');
    const parsed = grantSchema.safeParse(req.body);
    if (!parsed.success) {
      throw new GtbError('ERR_VALIDATION', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    }
    const { profile, holder, ttl_seconds } = parsed.data;
    const identity = identityOf(res);
    const token = await deps.access.token(identity, profile);
    const lease = await deps.leases.grant(profile, holder, ownerOf(identity), ttl_seconds === undefined ? undefined : ttl_seconds * 1000);
    void deps.events.tryPublish('lease.granted', profile, leaseEventData(lease, token.fingerprint));
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json({ ...leaseBody(lease), ...tokenBody(token, deps.now()) });
  });

  router.post('/v1/leases/:id/renew', ...auth, async (req, res) => {
    const current = await ownedLease(res, req.params.id);
    // A renewal hands out a token, so the policy decides again now: a caller removed from the
    // group, or an admin whose rule does not grant the profile, gets no token (and no longer lease).
    const token = await deps.access.token(identityOf(res), current.profile);
    const lease = await deps.leases.renew(current.id);
    void deps.events.tryPublish('lease.renewed', lease.profile, leaseEventData(lease, token.fingerprint));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ ...leaseBody(lease), ...tokenBody(token, deps.now()) });
  });

  router.delete('/v1/leases/:id', ...auth, async (req, res) => {
    const current = await ownedLease(res, req.params.id);
    const released = await deps.leases.release(current.id);
    if (released) {
      void deps.events.tryPublish('lease.released', released.profile, leaseEventData(released));
    }
    res.status(204).end();
  });

  router.get('/v1/leases', ...auth, async (_req, res) => {
    authorizeAdmin(deps, identityOf(res));
    const leases = await deps.leases.list(deps.profiles.names());
    res.setHeader('Cache-Control', 'no-store');
    res.json({ leases: leases.map((l) => ({ ...leaseBody(l), owner: l.owner, granted_at: new Date(l.grantedAt).toISOString() })) });
  });
  return router;
}
