import { Router } from 'express';
import type { RouteDeps } from './deps.js';
import { openApiDocument } from '../openapi.js';

/** `/healthz` (alive), `/readyz` (Redis and IdP keys), `/metrics`, `/openapi.json`. */
export function opsRoutes(deps: RouteDeps, isShuttingDown: () => boolean): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const { ready, checks } = await deps.readiness();
    const ok = ready && !isShuttingDown();
    deps.metrics.ready.set(ok ? 1 : 0);
    res.setHeader('Cache-Control', 'no-store');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', checks: { ...checks, accepting: !isShuttingDown() } });
  });
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  return router;
}
