import { hostname } from 'node:os';
import type { Server } from 'node:http';
import { createKeys, createRedis, type RedisClient } from '@gtb/redis';
import type { FetchLike } from '@gtb/errors';
import type { Logger } from '@gtb/logger';
import { createEventPublisher } from '@gtb/events';
import { withServerSpans } from '@gtb/tracing';
import { createApp, type BrokerApp } from './app.js';
import { createSharedRateLimitStore } from './http/shared-rate-limit-store.js';
import { createBrokerListener } from './http/tls-listener.js';
import { createBrokerMetrics, stateGauges, tokenObserver } from './metrics.js';
import { createIdentityVerifier, type IdentityVerifier } from './identity/index.js';
import { createPolicy } from './policy/index.js';
import { createTokenService, createKeyRing, createProfileRegistry, type TokenService } from './tokens/index.js';
import { createLeaseStore } from './leases/lease-store.js';
import { startLeaseSweeper } from './leases/lease-sweeper.js';
import { createMintHistory } from './tokens/mint-history.js';
import { createLifecycleFeed } from './events/lifecycle-feed.js';
import { createStreamStates } from './streams/stream-states.js';
import { consoleSettingsOf } from './console/console-settings.js';
import type { BrokerConfig } from './config.js';

export interface BrokerOptions {
  config: Readonly<BrokerConfig>;
  logger: Logger;
  now?: () => number;
  fetch?: FetchLike;
}

export interface RunningBroker {
  server: Server;
  url: string;
  broker: BrokerApp;
  tokens: TokenService;
  identity: IdentityVerifier;
  redis: RedisClient;
  /** Drains: not ready, finish in-flight requests (up to the timeout), release locks, close Redis. */
  stop(): Promise<void>;
}

/**
 * Builds every part of a broker replica from its configuration and starts listening. main.ts calls
 * this after loading the configuration; system tests call it with their own.
 */
export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const { config, logger, now = Date.now } = options;
  const instanceId = config.instanceId ?? `${hostname()}-${process.pid}`;
  const keys = createKeys(config.keyPrefix);
  const redis = createRedis(config.redis, { connectionName: `broker:${instanceId}`, failFast: true });
  // The subscriber keeps ioredis' offline queue (not fail-fast): SUBSCRIBE waits for Redis and
  // ioredis re-subscribes by itself after a reconnect.
  const subscriber = createRedis(config.redis, { connectionName: `broker-sub:${instanceId}` });
  // Errors are reported through readiness and failed commands; without a listener ioredis would crash.
  for (const client of [redis, subscriber]) client.on('error', (err: Error) => logger.debug({ err: err.message }, 'redis connection error'));

  const metrics = createBrokerMetrics();
  const events = createEventPublisher({ redis, keys, source: `/gtb/broker/${instanceId.replace(/[^A-Za-z0-9._-]/g, '-')}`, logger, now });
  const identity = createIdentityVerifier({ idps: config.idps, cache: config.identityCache, logger, now, fetch: options.fetch });
  const policy = createPolicy(config.policy, { logger: logger.child({ component: 'policy' }) });
  const profiles = createProfileRegistry(config.profiles);
  const mintHistory = createMintHistory({ redis, keys, instanceId, logger, now });
  const observer = tokenObserver(metrics);
  const feed = createLifecycleFeed({ redis, keys, logger });
  const streamStates = createStreamStates({ redis, keys, feed, now });
  const tokens = createTokenService({
    redis, subscriber, keys, logger, instanceId, now, profiles, events,
    keyRing: createKeyRing(config.encryption),
    lockTtlMs: config.tokens.lockTtlMs,
    waitTimeoutMs: config.tokens.waitTimeoutMs,
    fetch: options.fetch,
    observer: {
      ...observer,
      mintFinished: (profile, ms, outcome) => { observer.mintFinished(profile, ms, outcome); mintHistory.record(profile, ms, outcome); },
    },
  });
  // Start does not wait for Redis: a broker that comes up before Redis reports not ready until it
  // has subscribed, then serves. Retried until it succeeds or the broker stops.
  let subscribed = false;
  let stopped = false;
  void (async () => {
    for (let attempt = 0; !stopped && !subscribed; attempt++) {
      try {
        await tokens.start();
        subscribed = true;
      } catch (err) {
        logger.warn({ err: (err as Error).message, attempt }, 'cannot subscribe to token notifications yet; retrying');
        await new Promise((r) => setTimeout(r, 1000).unref());
      }
    }
  })();
  const leases = createLeaseStore({ redis, keys, now, defaultTtlMs: config.leases.defaultTtlSeconds * 1000, maxTtlMs: config.leases.maxTtlSeconds * 1000 });
  const sweeper = startLeaseSweeper({ leases, profiles: profiles.names(), intervalMs: config.leases.sweepIntervalMs, events, logger, onExpired: (profile) => metrics.leasesExpired.inc({ profile }) });
  stateGauges(metrics, { held: () => tokens.held(), redisUp: () => redis.status === 'ready' });

  const broker = createApp({
    logger, identity, policy, tokens, profiles, leases, metrics, now,
    events, mintHistory, feed, streamStates,
    console: consoleSettingsOf(config.console, config.idps.map((i) => i.issuer)),
    leaseGraceMs: config.leases.graceSeconds * 1000,
    rateLimitPerMinute: config.rateLimit.perMinute,
    authFailuresPerAddress: config.rateLimit.authFailuresPerAddress,
    authFailuresPerToken: config.rateLimit.authFailuresPerToken,
    rateLimitStore: createSharedRateLimitStore({ redis, keys, logger }),
    trustProxy: config.http.trustProxy,
    fastPath: config.http.fastPath,
    readiness: async () => {
      const redisOk = await redis.ping().then(() => true, () => false);
      // Ready while any IdP can verify: one IdP's outage must not take every replica away from the
      // callers of the others. Each IdP has its own check, `idp:<name>` (or `idp:<position>`:
      // /readyz is public, and the issuers it trusts are not).
      const idps = await identity.status();
      const idpOk = idps.some((i) => i.ready);
      const perIdp = Object.fromEntries(idps.map((i, n) => [`idp:${config.idps[n]?.name ?? n}`, i.ready]));
      return { ready: redisOk && idpOk && subscribed, checks: { redis: redisOk, idpKeys: idpOk, subscribed, ...perIdp } };
    },
  });

  // With tracing on, each request's server span (the hit path's too) opens here, ahead of everything.
  const listener = createBrokerListener(withServerSpans(broker.listener), config.http.tls, logger);
  const server = listener.server;
  server.keepAliveTimeout = 65_000; // longer than common load balancers' idle timeout
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const url = `${listener.scheme}://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
  logger.info({ url, instanceId, profiles: profiles.names(), idps: config.idps.map((i) => i.issuer) }, 'broker listening');

  let stopping: Promise<void> | undefined;
  return {
    server, url, broker, tokens, identity, redis,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        broker.beginShutdown();
        sweeper.stop();
        listener.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timeout = new Promise<void>((resolve) => setTimeout(resolve, config.http.shutdownTimeoutMs).unref());
        await Promise.race([closed, timeout]);
        server.closeAllConnections();
        await feed.close();
        await tokens.close();
        await identity.close();
        // quit() waits for Redis to answer; with Redis gone it would hang a pod until SIGKILL.
        await Promise.all([redis, subscriber].map(async (client) => {
          await Promise.race([client.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
          client.disconnect();
        }));
        logger.info('broker stopped');
      })();
      return stopping;
    },
  };
}
