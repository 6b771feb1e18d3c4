import type { RequestListener } from 'node:http';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import { GtbError } from '@gtb/errors';
import { requestContext } from './http/request-context.js';
import { createHttpRecorder, httpMetrics } from './http/http-metrics.js';
import { constantHeaders, securityHeadersOf, tokenFastPath } from './http/token-fast-path.js';
import { isLocalHitStore } from './http/shared-rate-limit-store.js';
import { errorHandler, notFound } from './http/problem.js';
import { authenticate } from './http/authenticate.js';
import { createAuthGuard } from './http/auth-guard.js';
import { callerRateLimit } from './http/caller-rate-limit.js';
import { createTokenAccess } from './tokens/token-access.js';
import { tokenRoutes } from './routes/tokens.js';
import { tokenExchangeRoutes } from './routes/token-exchange.js';
import { leaseRoutes } from './routes/leases.js';
import { profileRoutes } from './routes/profiles.js';
import { opsRoutes } from './routes/ops.js';
import { streamRoutes } from './routes/streams.js';
import { eventRoutes } from './routes/events.js';
import { consoleAssets } from './console/console-assets.js';
import type { RouteDeps } from './routes/deps.js';
import type { Store } from 'express-rate-limit';

export interface AppOptions extends Omit<RouteDeps, 'auth' | 'gate' | 'rateLimit' | 'access' | 'guard'> {
  /** Requests a minute per caller (verified identity, else address). */
  rateLimitPerMinute?: number;
  rateLimitStore?: Store | undefined;
  /** Failed authentications a minute per client address and per token before refusing unverified (60 and 10). */
  authFailuresPerAddress?: number;
  authFailuresPerToken?: number;
  /** Addresses or CIDRs of trusted proxies (Express `trust proxy`), for `req.ip` behind a load balancer; none by default. */
  trustProxy?: readonly string[];
  /**
   * Answer `GET /v1/tokens/{profile}` from memory in the request listener, ahead of Express, when it
   * can (http/token-fast-path.ts; needs a rate-limit store that counts locally). Default true.
   */
  fastPath?: boolean;
}

export interface BrokerApp {
  app: Express;
  /** What the HTTP server runs for each request: the hit path, which hands everything else to `app`. */
  listener: RequestListener;
  /** From now on /readyz says not ready and new token requests are refused with 503. */
  beginShutdown(): void;
  isShuttingDown(): boolean;
}

/**
 * Middlewares that each call `next` once, run one after the other inside one middleware; an error
 * passed to `next` (or thrown, or a rejected promise) skips the rest and goes on to Express, as it
 * would between separate layers.
 */
export function inSequence(handlers: readonly RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let i = 0;
    const step = (err?: unknown) => {
      if (err !== undefined || i === handlers.length) return next(err);
      const handler = handlers[i++]!;
      try {
        // As Express 5's layers do: a throw or a rejected promise goes to the error handler.
        const result = handler(req, res, step) as unknown;
        if (result instanceof Promise) result.then(undefined, (rejected: unknown) => next(rejected ?? new Error('middleware rejected')));
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}

/** Builds the broker's Express app from its parts. Never reads the environment, never listens. */
export function createApp(options: AppOptions): BrokerApp {
  let shuttingDown = false;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy && options.trustProxy.length > 0 ? [...options.trustProxy] : false);
  app.set('etag', false);
  app.set('query parser', 'simple');
  const perMinute = options.rateLimitPerMinute ?? 600;
  const limiter = callerRateLimit({ perMinute, store: options.rateLimitStore });
  const gate: RequestHandler = (_req, _res, next) => next(shuttingDown ? new GtbError('ERR_SHUTTING_DOWN', 'this replica is shutting down; retry on another') : undefined);
  const guard = createAuthGuard({
    identity: options.identity,
    failuresPerAddress: options.authFailuresPerAddress ?? 60,
    failuresPerToken: options.authFailuresPerToken ?? 10,
    onFailure: (reason) => options.metrics.authFailures.inc({ reason }),
  });
  const access = createTokenAccess({
    policy: options.policy, tokens: options.tokens, profiles: options.profiles,
    denied: () => options.metrics.policyDenials.inc({ kind: 'profile' }),
  });
  // One layer in each route's stack instead of three (inSequence).
  const auth: RequestHandler[] = [inSequence([gate, authenticate(guard), limiter])];
  const deps: RouteDeps = { ...options, auth, gate, guard, rateLimit: limiter, access };

  // helmet's headers, recorded from helmet once: the hit path writes them itself, the full path sets them in one step.
  const securityHeaders = securityHeadersOf(helmet());
  const record = createHttpRecorder(options.metrics);
  const store = options.rateLimitStore;
  let listener: RequestListener = app;
  if (options.fastPath !== false && isLocalHitStore(store)) {
    const hitPath = tokenFastPath({
      identity: options.identity, access,
      limiter: { store, perMinute }, securityHeaders, record, answered: options.metrics.fastPathAnswers,
      logger: options.logger, now: options.now, isShuttingDown: () => shuttingDown,
    });
    listener = (req, res) => hitPath(req, res, () => { void app(req, res); });
  }
  // helmet's headers, the request context and the HTTP metrics, in this order, as one Express layer:
  // each layer is a round through the router's `next` (matching, prefix handling) on every request.
  app.use(inSequence([constantHeaders(securityHeaders), requestContext(options.logger, options.now), httpMetrics(record)]));
  // The hit path's router first: every other router is a few more pattern matches per request.
  app.use(tokenRoutes(deps));
  app.use(opsRoutes(deps, () => shuttingDown));
  app.use(tokenExchangeRoutes(deps));
  app.use(leaseRoutes(deps));
  app.use(profileRoutes(deps));
  app.use(streamRoutes(deps));
  app.use(eventRoutes(deps));
  if (options.console) app.use('/console', consoleAssets(options.console));
  app.use(notFound);
  app.use(errorHandler(options.logger));

  return {
    app,
    listener,
    beginShutdown: () => { shuttingDown = true; },
    isShuttingDown: () => shuttingDown,
  };
}
