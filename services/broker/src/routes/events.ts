import { Router, type Request } from 'express';
import { GtbError } from '@gtb/errors';
import { EVENT_TYPES } from '@gtb/events';
import { NAME_PATTERN } from '@gtb/redis';
import { identityOf } from '../http/authenticate.js';
import { isStreamId, matches, type FeedEvent, type FeedFilter } from '../events/lifecycle-feed.js';
import type { RouteDeps } from './deps.js';
import { authorizeAdmin } from './authorize-admin.js';

const list = (value: unknown): string[] => (typeof value === 'string' && value.length > 0 ? value.split(',') : []);

/** The `type`, `profile` and `stream` query filters (comma-separated lists), validated. */
function filterOf(req: Request): FeedFilter {
  const filter = { types: list(req.query.type), profiles: list(req.query.profile), streams: list(req.query.stream) };
  const badType = filter.types.find((t) => !(EVENT_TYPES as string[]).includes(t));
  if (badType !== undefined) throw new GtbError('ERR_VALIDATION', `type must be lifecycle event types (${EVENT_TYPES.join(', ')})`);
  if ([...filter.profiles, ...filter.streams].some((n) => !NAME_PATTERN.test(n))) throw new GtbError('ERR_VALIDATION', 'profile and stream must be names');
  return filter;
}

function countOf(req: Request, fallback: number): number {
  if (req.query.count === undefined) return fallback;
  const n = Number(req.query.count);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new GtbError('ERR_VALIDATION', 'count must be an integer from 1 to 1000');
  return n;
}

const body = (e: FeedEvent) => ({ id: e.id, event: e.event });
/** A comment line every so often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/**
 * `GET /v1/events` (the recent lifecycle events, JSON) and `GET /v1/events/stream` (the same as
 * server-sent events, live). Admin only. The stream is read with the bearer in `Authorization`
 * (fetch, not EventSource, which cannot send it); it resumes after `Last-Event-ID` or `since`, and
 * ends when the caller's IdP token does, so that no stream outlives the right to read it.
 */
export function eventRoutes(deps: RouteDeps): Router {
  const router = Router();

  router.get('/v1/events', ...deps.auth, async (req, res) => {
    authorizeAdmin(deps, identityOf(res));
    const events = await deps.feed.recent(countOf(req, 300), filterOf(req));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ events: events.map(body) });
  });

  router.get('/v1/events/stream', ...deps.auth, async (req, res) => {
    const identity = identityOf(res);
    authorizeAdmin(deps, identity);
    const filter = filterOf(req);
    const since = req.get('last-event-id') ?? (typeof req.query.since === 'string' ? req.query.since : undefined);
    if (since !== undefined && !isStreamId(since)) throw new GtbError('ERR_VALIDATION', 'since (or Last-Event-ID) must be a lifecycle stream id like 1700000000000-0');

    // Registered before the first await: a reader that leaves while the handler waits must still
    // stop its listener and timers (a listener added after 'close' would never hear it).
    let left = false;
    const cleanups: (() => void)[] = [];
    res.on('close', () => {
      left = true;
      for (const cleanup of cleanups.splice(0)) cleanup();
    });
    // It may have left during authentication already: its 'close' has fired.
    if (req.socket.destroyed) left = true;
    // A reader without a cursor starts at the newest entry now: whatever follows its request reaches it.
    const from = since ?? await deps.feed.newestId();
    if (left) return;
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write('retry: 2000\n\n');
    let sentUpTo: string = from;
    const send = (events: FeedEvent[]) => {
      for (const e of events) {
        if (compareIds(e.id, sentUpTo) <= 0) continue;
        sentUpTo = e.id;
        if (matches(filter, e.event)) res.write(`id: ${e.id}\nevent: lifecycle\ndata: ${JSON.stringify(e.event)}\n\n`);
      }
    };
    // Listen first, then catch up: an event in between arrives twice and the cursor drops the second.
    const buffered: FeedEvent[] = [];
    let caughtUp = false;
    cleanups.push(deps.feed.listen((events) => (caughtUp ? send(events) : buffered.push(...events)), from));
    const missed = await deps.feed.after(from, 1000);
    if (left) return;
    send(missed);
    caughtUp = true;
    send(buffered);
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    const expiry = setTimeout(() => {
      res.write('event: expired\ndata: {"reason":"the IdP token expired; sign in again"}\n\n');
      res.end();
    }, Math.max(0, Math.min(identity.expiresAt - deps.now(), 2 ** 31 - 1)));
    cleanups.push(() => {
      clearInterval(keepalive);
      clearTimeout(expiry);
    });
  });
  return router;
}

/** Orders two stream ids (`ms-seq`). */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? (as === bs ? 0 : as < bs ? -1 : 1) : am < bm ? -1 : 1;
}
