import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { GtbError } from '@gtb/errors';

const clientSchema = z.strictObject({
  client_id: z.string().min(1),
  client_secret: z.string().min(8),
  scope: z.string().optional(),
  /** Claims added to every access token of the client, e.g. `{ "groups": ["sales-apps"] }`. */
  extraClaims: z.record(z.string(), z.unknown()).optional(),
});

/** The development IdP's settings, from `IDP_*` variables. */
export const devIdpConfigSchema = z.strictObject({
  port: z.coerce.number().int().min(0).max(65_535).default(9200),
  clients: z.array(clientSchema).min(1),
  accessTokenTtl: z.coerce.number().int().min(30).max(86_400).default(3600),
  audience: z.string().min(1).default('api://gtb-broker'),
});

export type DevIdpConfig = z.output<typeof devIdpConfigSchema>;

/**
 * Reads `IDP_PORT`, `IDP_CLIENTS` (a JSON list) or `IDP_CLIENTS_FILE` (a file holding that list,
 * e.g. a mounted secret), `IDP_ACCESS_TOKEN_TTL` and `IDP_AUDIENCE`. ERR_CONFIG_INVALID names the
 * variable at fault; client secrets never appear in a message.
 */
export function readDevIdpConfig(env: Record<string, string | undefined>): DevIdpConfig {
  let clientsText = env.IDP_CLIENTS;
  let clientsFrom = 'IDP_CLIENTS';
  if (env.IDP_CLIENTS_FILE) {
    clientsFrom = `IDP_CLIENTS_FILE (${env.IDP_CLIENTS_FILE})`;
    try {
      clientsText = readFileSync(env.IDP_CLIENTS_FILE, 'utf8');
    } catch (err) {
      throw new GtbError('ERR_CONFIG_FILE', `${clientsFrom}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (!clientsText) throw new GtbError('ERR_CONFIG_INVALID', 'set IDP_CLIENTS (a JSON list of clients) or IDP_CLIENTS_FILE');
  let clients: unknown;
  try {
    clients = JSON.parse(clientsText);
  } catch {
    throw new GtbError('ERR_CONFIG_INVALID', `${clientsFrom} is not valid JSON`);
  }
  const result = devIdpConfigSchema.safeParse({
    port: env.IDP_PORT,
    clients,
    accessTokenTtl: env.IDP_ACCESS_TOKEN_TTL,
    audience: env.IDP_AUDIENCE,
  });
  if (!result.success) {
    const names: Record<string, string> = { port: 'IDP_PORT', clients: clientsFrom, accessTokenTtl: 'IDP_ACCESS_TOKEN_TTL', audience: 'IDP_AUDIENCE' };
    const lines = result.error.issues.map((i) => `  - ${names[String(i.path[0])] ?? String(i.path[0])}${i.path.length > 1 ? ` [${i.path.slice(1).join('.')}]` : ''}: ${i.message}`);
    throw new GtbError('ERR_CONFIG_INVALID', `invalid development IdP settings:\n${lines.join('\n')}`);
  }
  return result.data;
}
