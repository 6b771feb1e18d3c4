import type { Server } from 'node:http';
import express, { type Express } from 'express';
import { createAdmin, type SandboxAdmin } from './admin.js';
import { expireChannels } from './channels.js';
import { createClient } from './clients.js';
import { newUuid } from './ids.js';
import { resolveOptions, type SandboxOptions } from './options.js';
import { createState, type SandboxState } from './state.js';
import { SocketHub } from './streaming/socket-hub.js';
import { adminRouter } from './http/admin-routes.js';
import { apiAuth } from './http/api-auth.js';
import { BODY_LIMIT } from './http/body.js';
import { channelsRouter } from './http/channels-routes.js';
import { errorHandler } from './http/error-handler.js';
import { faultMiddleware } from './http/fault-middleware.js';
import { GenesysError } from './http/genesys-error.js';
import { oauthTokenRouter } from './http/oauth-token.js';
import { subscriptionsRouter } from './http/subscriptions-routes.js';
import { tokensMeRouter } from './http/tokens-me.js';
import { conversationsRouter } from './http/conversations-routes.js';
import { observationsRouter } from './http/observations-routes.js';
import { usersRouter } from './http/users-routes.js';

/** A sandbox built but not listening. */
export interface Sandbox {
  app: Express;
  /** Serves the streaming WebSocket on `server` and starts the expiry sweep; call once. */
  attachWebSocket(server: Server): void;
  state: SandboxState;
  admin: SandboxAdmin;
  /** Stops timers and terminates sockets (does not close the HTTP server). */
  shutdown(): Promise<void>;
}

/** Builds the sandbox (Express app, state, admin, WebSocket hub) without listening. */
export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const resolved = resolveOptions(options);
  const state = createState(resolved);
  const hub = new SocketHub(state);
  state.sockets = hub;
  for (const spec of resolved.clients) createClient(state, spec, true);
  const admin = createAdmin(state, hub);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use((_req, res, next) => {
    const id = newUuid(resolved.randomBytes);
    res.locals.correlationId = id;
    res.setHeader('ININ-Correlation-Id', id);
    next();
  });
  // One raw reader for every route: each route parses its own media type, so that a wrong
  // content type or malformed body gets that route's error shape.
  app.use(express.raw({ type: () => true, limit: BODY_LIMIT }));
  if (resolved.adminKey !== undefined) app.use('/__sandbox', adminRouter(admin, resolved.adminKey));
  app.use(faultMiddleware(state));
  app.use(oauthTokenRouter(state));
  app.use('/api/v2', apiAuth(state), tokensMeRouter(state), channelsRouter(state), subscriptionsRouter(state),
    usersRouter(state), observationsRouter(state), conversationsRouter(state));
  app.use((req) => {
    throw new GenesysError(404, 'not.found', `No resource at ${req.method} ${req.path.slice(0, 200)}.`);
  });
  app.use(errorHandler(resolved.logger));

  let sweep: NodeJS.Timeout | undefined;
  return {
    app,
    state,
    admin,
    attachWebSocket(server) {
      hub.attach(server);
      sweep ??= setInterval(() => {
        expireChannels(state);
        hub.sweepTokens();
      }, resolved.sweepIntervalMs).unref();
    },
    async shutdown() {
      if (sweep) clearInterval(sweep);
      await hub.close();
    },
  };
}
