import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import { GtbError } from '@gtb/errors';
import { requestContext } from './http/request-context.js';
import { httpMetrics } from './http/http-metrics.js';
import { errorHandler, notFound } from './http/problem.js';
import { authenticate } from './http/authenticate.js';
import { callerRateLimit } from './http/caller-rate-limit.js';
import { tokenRoutes } from './routes/tokens.js';
import { tokenExchangeRoutes } from './routes/token-exchange.js';
import { leaseRoutes } from './routes/leases.js';
import { profileRoutes } from './routes/profiles.js';
import { opsRoutes } from './routes/ops.js';
import type { RouteDeps } from './routes/deps.js';
import type { Store } from 'express-rate-limit';

export interface AppOptions extends Omit<RouteDeps, 'auth'> {
  /** Requests a minute per caller (verified identity, else address). */
  rateLimitPerMinute?: number;
  rateLimitStore?: Store | undefined;
  /** Express `trust proxy` setting, for `req.ip` behind a load balancer. */
  trustProxy?: boolean | number | string;
}

export interface BrokerApp {
  app: Express;
  /** From now on /readyz says not ready and new token requests are refused with 503. */
  beginShutdown(): void;
  isShuttingDown(): boolean;
}

/** Builds the broker's Express app from its parts. Never reads the environment, never listens. */
export function createApp(options: AppOptions): BrokerApp {
  let shuttingDown = false;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? false);
  app.set('etag', false);
  app.set('query parser', 'simple');
  const limiter = callerRateLimit({ perMinute: options.rateLimitPerMinute ?? 600, store: options.rateLimitStore });
  const auth: RequestHandler[] = [
    (_req, _res, next) => next(shuttingDown ? new GtbError('ERR_SHUTTING_DOWN', 'this replica is shutting down; retry on another') : undefined),
    authenticate(options.identity),
    limiter,
  ];
  const deps: RouteDeps = { ...options, auth };

  app.use(helmet());
  app.use(requestContext(options.logger, options.now));
  app.use(httpMetrics(options.metrics));
  // The hit path's router first: every other router is a few more pattern matches per request.
  app.use(tokenRoutes(deps));
  app.use(opsRoutes(deps, () => shuttingDown));
  app.use('/oauth2/token', limiter);
  app.use(tokenExchangeRoutes(deps));
  app.use(leaseRoutes(deps));
  app.use(profileRoutes(deps));
  app.use(notFound);
  app.use(errorHandler(options.logger));

  return {
    app,
    beginShutdown: () => { shuttingDown = true; },
    isShuttingDown: () => shuttingDown,
  };
}
