#!/usr/bin/env node
import { createRequire } from 'node:module';
import { createLogger } from '@gtb/logger';
import { tracingWanted } from '@gtb/tracing';
import { loadBrokerConfig } from './config.js';
import { startBroker } from './compose.js';

/** Process entry: read configuration, start, drain on SIGTERM/SIGINT. The only file that reads the environment. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadBrokerConfig(process.env);
  } catch (err) {
    console.error(`broker: ${(err as Error).message}`);
    process.exit(78); // EX_CONFIG
  }
  // Lines go to stdout gathered per event-loop turn, one synchronous write at the turn's end
  // (@gtb/logger's turnDestination): pino's asynchronous mode moved the writes to libuv's threads.
  const logger = createLogger({ name: 'broker', level: config.logLevel, base: { instance: config.instanceId } });
  // OpenTelemetry only when OTEL_TRACES_EXPORTER asks for it (infra/docs/runbook.md § Traces); the SDK
  // is not even loaded otherwise, and the spans in the code stay no-ops.
  const tracing = tracingWanted(process.env)
    ? (await import('@gtb/tracing/sdk')).startTracing({ serviceName: 'gtb-broker', require: createRequire(import.meta.url) })
    : undefined;
  const running = await startBroker({ config, logger });
  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) process.exit(1);
    logger.info({ signal }, 'draining');
    running.stop().then(() => tracing?.shutdown()).then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('broker: failed to start:', err);
  process.exit(1);
});
