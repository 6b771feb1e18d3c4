#!/usr/bin/env node
// The development IdP (oidc-provider, dev-idp.ts) as a process of its own, for the compose stack
// and the dev-idp image. Not for production: keys and sessions live in memory and change on restart.
import { createLogger } from '@gtb/logger';
import { startDevIdp } from './dev-idp.js';
import { readDevIdpConfig } from './dev-idp-config.js';

/** Process entry: read IDP_* settings, start the IdP, stop on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = readDevIdpConfig(process.env);
  } catch (err) {
    console.error(`dev-idp: ${(err as Error).message}`);
    process.exit(78); // EX_CONFIG
  }
  const logger = createLogger({ name: 'dev-idp', level: 'info' });
  const idp = await startDevIdp(config);
  logger.info({
    issuer: idp.issuer, audience: idp.audience, clients: config.clients.map((c) => c.client_id),
    publicClients: config.publicClients.map((c) => c.client_id), users: config.users.map((u) => u.username),
  }, 'dev idp listening');
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping');
    idp.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('dev-idp: failed to start:', err);
  process.exit(1);
});
