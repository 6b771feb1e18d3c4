#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createLogger } from '@gtb/logger';
import { readSandboxConfig, toSandboxOptions } from './config.js';
import { startSandbox } from './start-sandbox.js';

const USAGE = `gtb-sandbox: a local Genesys Cloud (OAuth, tokens, notifications, streaming)

  --port <n>            SANDBOX_PORT                 (default 4010; 0 picks a free port)
  --host <addr>         SANDBOX_HOST                 (default 127.0.0.1)
  --admin-key <key>     SANDBOX_ADMIN_KEY            enables /__sandbox (header x-sandbox-key)
  --clients <list>      SANDBOX_CLIENTS              id:secret,id2:secret2 or a JSON list
  --heartbeat-interval-ms, --socket-closing-notice-ms, --channel-lifetime-ms,
  --max-channels-per-client (20), --max-topics-per-channel (1000),
  --default-token-lifetime-seconds, --token-rate-limit-per-minute, --api-rate-limit-per-minute,
  --log-level           and the same as SANDBOX_<NAME> variables; SANDBOX_CONFIG_FILE for a YAML/JSON file
`;

const FLAGS = ['port', 'host', 'admin-key', 'clients', 'heartbeat-interval-ms', 'socket-closing-notice-ms', 'channel-lifetime-ms',
  'max-channels-per-client', 'max-topics-per-channel',
  'default-token-lifetime-seconds', 'token-rate-limit-per-minute', 'api-rate-limit-per-minute', 'log-level', 'config-file'] as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { ...Object.fromEntries(FLAGS.map((f) => [f, { type: 'string' as const }])), help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  // Flags become SANDBOX_* variables so that one schema validates flags, variables and the file.
  const env: Record<string, string | undefined> = { ...process.env };
  for (const flag of FLAGS) {
    const value = (values as Record<string, unknown>)[flag];
    if (typeof value === 'string') env[`SANDBOX_${flag.toUpperCase().replace(/-/g, '_')}`] = value;
  }
  const config = readSandboxConfig(env);
  const logger = createLogger({ name: 'sandbox', level: config.logLevel });
  const sandbox = await startSandbox({ ...toSandboxOptions(config), logger });
  logger.info({ url: sandbox.url, wsUrl: sandbox.wsUrl, admin: config.adminKey !== undefined, clients: config.clients.map((c) => c.clientId) }, 'sandbox ready');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    sandbox.close().then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  console.error(`gtb-sandbox: ${e.code ?? 'ERROR'}: ${e.message ?? String(err)}`);
  process.exit(1);
});
