import { Router } from 'express';
import { identityOf } from '../http/authenticate.js';
import { findProfile } from '../tokens/token-access.js';
import type { RouteDeps } from './deps.js';
import { authorizeAdmin } from './authorize-admin.js';

/** Admin routes: list profiles and their cache state, rotate, revoke. Never token values. */
export function profileRoutes(deps: RouteDeps): Router {
  const router = Router();
  const auth = deps.auth;
  const mintsOf = async (name: string) => {
    const { last, perHour } = await deps.mintHistory.summary(name);
    return {
      last: last && { at: new Date(last.at).toISOString(), instance: last.instance, ms: last.ms, outcome: last.outcome },
      per_hour_24h: perHour,
    };
  };

  router.get('/v1/profiles', ...auth, async (_req, res) => {
    authorizeAdmin(deps, identityOf(res));
    const profiles = await Promise.all(deps.profiles.all().map(({ info: p }) => p).map(async (p) => ({
      name: p.name,
      region: p.region ?? null,
      login_base_url: p.loginBaseUrl,
      api_base_url: p.apiBaseUrl,
      client_id_fingerprint: p.clientIdFingerprint,
      live_leases: await deps.leases.liveCount(p.name),
      cache: await deps.tokens.state(p.name),
      mints: await mintsOf(p.name),
    })));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ profiles });
  });

  router.post('/v1/profiles/:profile/rotate', ...auth, async (req, res) => {
    authorizeAdmin(deps, identityOf(res));
    const profile = findProfile(deps.profiles, req.params.profile);
    const token = await deps.tokens.rotate(profile.name);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ profile: profile.name, fingerprint: token.fingerprint, expires_at: new Date(token.expiresAt).toISOString() });
  });

  router.delete('/v1/profiles/:profile/token', ...auth, async (req, res) => {
    authorizeAdmin(deps, identityOf(res));
    const profile = findProfile(deps.profiles, req.params.profile);
    const live = await deps.leases.liveCount(profile.name);
    if (live > 0) {
      // Lease holders are told first: a new token is minted and announced (token.rotated), and the
      // old one is revoked only after the grace period, so their channels can roll over.
      const previous = await deps.tokens.getToken(profile.name);
      await deps.tokens.rotate(profile.name);
      res.locals.log?.info({ profile: profile.name, live, graceMs: deps.leaseGraceMs, previous: previous.fingerprint }, 'revoke deferred for lease holders');
      await new Promise((r) => setTimeout(r, deps.leaseGraceMs));
      await deps.tokens.revoke(profile.name, previous);
    } else {
      await deps.tokens.revoke(profile.name);
    }
    res.status(204).end();
  });
  return router;
}
