import { timingSafeEqual } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { GtbError } from '@gtb/errors';
import type { SandboxAdmin } from '../admin.js';
import type { Fault } from '../faults.js';
import type { ClientSpec } from '../options.js';
import { validateGenerateRequest } from '../event-generator.js';
import { rawBody } from './body.js';

/** The admin API under `/__sandbox`, guarded by `x-sandbox-key` (401 missing, 403 wrong). */
export function adminRouter(admin: SandboxAdmin, adminKey: string): Router {
  const router = Router();
  router.use(guard(adminKey));
  router.post('/clients', (req, res) => {
    res.status(201).json(admin.createClient(jsonObject(req) as ClientSpec));
  });
  router.post('/events', async (req, res) => {
    const body = jsonObject(req);
    validateGenerateRequest(body);
    res.json(await admin.generateEvents(body));
  });
  router.post('/faults', (req, res) => {
    res.status(201).json(admin.injectFault(jsonObject(req) as unknown as Fault));
  });
  router.delete('/faults', (_req, res) => {
    admin.clearFaults();
    res.status(204).end();
  });
  router.get('/counters', (_req, res) => {
    res.json(admin.counters());
  });
  router.get('/channels', (req, res) => {
    const clientId = req.query.clientId;
    if (clientId !== undefined && typeof clientId !== 'string') throw new GtbError('ERR_VALIDATION', 'clientId must be given once');
    res.json({ entities: admin.listChannels(clientId === undefined ? {} : { clientId }) });
  });
  router.get('/channels/:channelId', (req, res) => {
    res.json(admin.getChannel(req.params.channelId));
  });
  router.post('/channels/:channelId/expire', (req, res) => {
    admin.expireChannel(req.params.channelId);
    res.status(204).end();
  });
  router.post('/channels/:channelId/close', (req, res) => {
    const body = jsonObject(req, true);
    if (body.notice !== undefined && typeof body.notice !== 'boolean') throw new GtbError('ERR_VALIDATION', 'notice must be a boolean');
    admin.closeSocket(req.params.channelId, { notice: body.notice !== false });
    res.status(202).json({ closing: true });
  });
  router.post('/tokens/revoke', (req, res) => {
    const body = jsonObject(req);
    const target = typeof body.token === 'string' ? body.token : { clientId: body.clientId as string };
    res.json({ revoked: admin.revokeToken(target) });
  });
  router.post('/reset', (_req, res) => {
    admin.reset();
    res.status(204).end();
  });
  router.use((_req, _res) => {
    throw new GtbError('ERR_NOT_FOUND', 'no such admin route');
  });
  return router;
}

function guard(adminKey: string) {
  const expected = Buffer.from(adminKey);
  return (req: Request, _res: Response, next: NextFunction): void => {
    const given = req.headers['x-sandbox-key'];
    if (typeof given !== 'string' || given === '') throw new GtbError('ERR_ADMIN_REQUIRED', 'x-sandbox-key header required', { status: 401 });
    const g = Buffer.from(given);
    if (g.length !== expected.length || !timingSafeEqual(g, expected)) throw new GtbError('ERR_ADMIN_REQUIRED', 'wrong x-sandbox-key');
    next();
  };
}

/** The JSON object body of an admin request (ERR_VALIDATION otherwise; `{}` when empty and allowed). */
function jsonObject(req: Request, emptyOk = false): Record<string, unknown> {
  const raw = rawBody(req);
  if (raw.length === 0) {
    if (emptyOk) return {};
    throw new GtbError('ERR_VALIDATION', 'a JSON object body is required');
  }
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new GtbError('ERR_UNSUPPORTED_MEDIA_TYPE', 'the body must be application/json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new GtbError('ERR_BAD_REQUEST', 'malformed JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new GtbError('ERR_VALIDATION', 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}
