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

/** A browser client (no secret; authorization code + PKCE), e.g. the operator console. */
const publicClientSchema = z.strictObject({
  client_id: z.string().min(1),
  redirect_uris: z.array(z.string().url()).min(1),
  /** Where RP-initiated logout may send the browser back to (the console: `<broker>/console/`). */
  post_logout_redirect_uris: z.array(z.string().url()).optional(),
});

/** A person who signs in at the IdP's page; `claims` go into their access tokens (e.g. `{ "roles": ["gtb-admin"] }`). */
const userSchema = z.strictObject({
  username: z.string().min(1),
  password: z.string().min(8),
  name: z.string().optional(),
  claims: z.record(z.string(), z.unknown()).optional(),
});

/** The development IdP's settings, from `IDP_*` variables. */
export const devIdpConfigSchema = z.strictObject({
  port: z.coerce.number().int().min(0).max(65_535).default(9200),
  clients: z.array(clientSchema).min(1),
  publicClients: z.array(publicClientSchema).default([]),
  users: z.array(userSchema).default([]),
  accessTokenTtl: z.coerce.number().int().min(30).max(86_400).default(3600),
  audience: z.string().min(1).default('api://gtb-broker'),
});

export type DevIdpConfig = z.output<typeof devIdpConfigSchema>;

/**
 * A JSON list from `<NAME>` or from the file `<NAME>_FILE` names (e.g. a mounted secret), with the
 * source it came from for messages; undefined when neither is set.
 */
function jsonList(env: Record<string, string | undefined>, name: string): { value: unknown; from: string } | undefined {
  let text = env[name];
  let from = name;
  const file = env[`${name}_FILE`];
  if (file) {
    from = `${name}_FILE (${file})`;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new GtbError('ERR_CONFIG_FILE', `${from}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (!text) return undefined;
  try {
    return { value: JSON.parse(text), from };
  } catch {
    throw new GtbError('ERR_CONFIG_INVALID', `${from} is not valid JSON`);
  }
}

/**
 * Reads `IDP_PORT`, `IDP_CLIENTS` (a JSON list) or `IDP_CLIENTS_FILE` (a file holding that list),
 * `IDP_PUBLIC_CLIENTS` / `IDP_PUBLIC_CLIENTS_FILE` (browser clients), `IDP_USERS` / `IDP_USERS_FILE`
 * (people who sign in at its page), `IDP_ACCESS_TOKEN_TTL` and `IDP_AUDIENCE`. ERR_CONFIG_INVALID
 * names the variable at fault; secrets and passwords never appear in a message.
 */
export function readDevIdpConfig(env: Record<string, string | undefined>): DevIdpConfig {
  const clients = jsonList(env, 'IDP_CLIENTS');
  if (!clients) throw new GtbError('ERR_CONFIG_INVALID', 'set IDP_CLIENTS (a JSON list of clients) or IDP_CLIENTS_FILE');
  const publicClients = jsonList(env, 'IDP_PUBLIC_CLIENTS');
  const users = jsonList(env, 'IDP_USERS');
  const result = devIdpConfigSchema.safeParse({
    port: env.IDP_PORT,
    clients: clients.value,
    publicClients: publicClients?.value,
    users: users?.value,
    accessTokenTtl: env.IDP_ACCESS_TOKEN_TTL,
    audience: env.IDP_AUDIENCE,
  });
  if (!result.success) {
    const names: Record<string, string> = {
      port: 'IDP_PORT', clients: clients.from, publicClients: publicClients?.from ?? 'IDP_PUBLIC_CLIENTS', users: users?.from ?? 'IDP_USERS',
      accessTokenTtl: 'IDP_ACCESS_TOKEN_TTL', audience: 'IDP_AUDIENCE',
    };
    const lines = result.error.issues.map((i) => `  - ${names[String(i.path[0])] ?? String(i.path[0])}${i.path.length > 1 ? ` [${i.path.slice(1).join('.')}]` : ''}: ${i.message}`);
    throw new GtbError('ERR_CONFIG_INVALID', `invalid development IdP settings:\n${lines.join('\n')}`);
  }
  const names = new Set<string>();
  for (const u of result.data.users) {
    if (names.has(u.username)) throw new GtbError('ERR_CONFIG_INVALID', `invalid development IdP settings:\n  - ${users!.from}: user ${u.username} is listed twice`);
    names.add(u.username);
  }
  return result.data;
}
