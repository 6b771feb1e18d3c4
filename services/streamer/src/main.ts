#!/usr/bin/env node
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tracingWanted } from '@gtb/tracing';
import { loadConfig } from '@gtb/config';
import { createLogger } from '@gtb/logger';
import { createRedis } from '@gtb/redis';
import { createStreamer } from './app.js';
import { streamerConfigSchema } from './config.js';
import { createOpsServer } from './http-server.js';
import { createIdpTokenSource } from './idp-token.js';

/**
 * Process entry, the only file that reads the environment: configuration from
 * `GTB_STREAMER_CONFIG_FILE` and `GTB_STREAMER_*` overrides, then start, listen, drain on SIGTERM.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(streamerConfigSchema, { envPrefix: 'GTB_STREAMER_' });
  } catch (err) {
    console.error(`streamer: ${(err as Error).message}`);
    process.exit(78); // EX_CONFIG
  }
  // OpenTelemetry only when OTEL_TRACES_EXPORTER asks for it (infra/docs/runbook.md § Traces).
  const tracing = tracingWanted(process.env)
    ? (await import('@gtb/tracing/sdk')).startTracing({ serviceName: 'gtb-streamer', require: createRequire(import.meta.url) })
    : undefined;
  const instanceId = config.instanceId ?? `streamer-${process.pid}`;
  const logger = createLogger({ name: 'streamer', level: config.logLevel, base: { instance: instanceId } });
  const redis = createRedis(config.redis, { connectionName: `streamer:${instanceId}`, failFast: true });
  const subscriber = createRedis(config.redis, { connectionName: `streamer-sub:${instanceId}` });
  for (const c of [redis, subscriber]) c.on('error', (err: Error) => logger.debug({ err: err.message }, 'redis connection error'));
  const idpToken = createIdpTokenSource({ ...config.identity, now: Date.now, logger });
  const streamer = createStreamer({ config, redis, subscriber, logger, idpToken, instanceId });
  const server = createOpsServer(streamer);
  await new Promise<void>((resolve) => server.listen(config.http.port, config.http.host, resolve));
  const { port } = server.address() as AddressInfo;
  logger.info({ host: config.http.host, port, ha: config.ha, streams: config.streams.map((s) => s.name) }, 'streamer listening');
  await streamer.start();

  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) process.exit(1);
    logger.info({ signal }, 'draining');
    streamer.stop()
      .then(() => new Promise<void>((resolve) => server.close(() => resolve())))
      .then(() => tracing?.shutdown())
      .then(() => { redis.disconnect(); subscriber.disconnect(); process.exit(0); }, (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('streamer: failed to start:', err);
  process.exit(1);
});
