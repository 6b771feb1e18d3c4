import { z } from 'zod';
import { loadConfig } from '@gtb/config';
import type { ClientSpec, SandboxOptions } from './options.js';

const clientSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  tokenLifetimeSeconds: z.number().int().min(300).max(172_800).optional(),
  allowedTopics: z.array(z.string().min(1)).optional(),
  name: z.string().optional(),
});

/** `id:secret,id2:secret2` → client specs; a JSON list passes through as parsed by the loader. */
const clientsSchema = z.union([
  z.array(clientSchema),
  z.string().transform((text, ctx): ClientSpec[] => {
    const out: ClientSpec[] = [];
    for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
      const colon = pair.indexOf(':');
      if (colon <= 0 || colon === pair.length - 1) {
        ctx.addIssue({ code: 'custom', message: 'expected id:secret pairs separated by commas, or a JSON list' });
        return z.NEVER;
      }
      out.push({ clientId: pair.slice(0, colon), clientSecret: pair.slice(colon + 1) });
    }
    return out;
  }),
]);

const configSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65_535).default(4010),
  adminKey: z.coerce.string().min(8).optional(),
  clients: clientsSchema.default([]),
  defaultTokenLifetimeSeconds: z.coerce.number().int().min(300).max(172_800).optional(),
  tokenRateLimitPerMinute: z.coerce.number().int().positive().optional(),
  apiRateLimitPerMinute: z.coerce.number().int().positive().optional(),
  heartbeatIntervalMs: z.coerce.number().int().positive().optional(),
  socketClosingNoticeMs: z.coerce.number().int().min(0).optional(),
  channelLifetimeMs: z.coerce.number().int().positive().optional(),
  maxChannelsPerClient: z.coerce.number().int().min(1).max(100_000).optional(),
  maxTopicsPerChannel: z.coerce.number().int().min(1).max(100_000).optional(),
  resubscribeExtendsChannel: z.boolean().optional(),
  closeSocketOnTokenExpiry: z.boolean().optional(),
  closeSocketOnTokenRevoked: z.boolean().optional(),
  sendTokenRevokedNotice: z.boolean().optional(),
  invalidClientStatus: z.union([z.literal(400), z.literal(401)]).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type SandboxConfig = z.output<typeof configSchema>;

/**
 * Reads the CLI configuration: an optional file (`SANDBOX_CONFIG_FILE`), then `SANDBOX_*`
 * variables (`SANDBOX_PORT`, `SANDBOX_ADMIN_KEY`, `SANDBOX_CLIENTS`, `SANDBOX_HEARTBEAT_INTERVAL_MS`…),
 * then flags, which main.ts turns into the same variables so that one schema validates all.
 */
export function readSandboxConfig(env: Record<string, string | undefined>): Readonly<SandboxConfig> {
  return loadConfig(configSchema, { envPrefix: 'SANDBOX_', env });
}

/** The sandbox options a configuration stands for (without the logger). */
export function toSandboxOptions(config: SandboxConfig): SandboxOptions {
  const { logLevel: _logLevel, clients, ...rest } = config;
  const options: SandboxOptions = { clients: clients.map((c) => ({ ...c })) };
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) (options as Record<string, unknown>)[key] = value;
  }
  return options;
}
