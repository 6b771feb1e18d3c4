import { z } from 'zod';
import { GtbError } from '@gtb/errors';

/** The `console` block of the broker configuration: how the operator console signs in. */
export const consoleConfigSchema = z.strictObject({
  /** Serve the console under /console/ at all. */
  enabled: z.boolean().default(true),
  /** The IdP the console signs in with; the first of `idps` when absent. It must be one the broker trusts. */
  issuer: z.string().url().optional(),
  /** A public client at that IdP (no secret): authorization code with PKCE, redirect URI `<broker>/console/callback`. */
  clientId: z.string().min(1).max(200).optional(),
  /** Scopes the console asks for. */
  scope: z.string().min(1).max(500).default('openid'),
  /** RFC 8707 resource indicator, when the IdP needs one to issue a token for the broker (its `aud`). */
  resource: z.string().min(1).max(500).optional(),
}).default({ enabled: true, scope: 'openid' });

export type ConsoleConfig = z.output<typeof consoleConfigSchema>;

/** What the console's page is told at `/console/config.json` (public: no secret in it). */
export interface ConsoleSettings {
  issuer: string;
  clientId: string | null;
  scope: string;
  resource: string | null;
}

/** The console's settings from the configuration, or undefined when the console is off. */
export function consoleSettingsOf(config: ConsoleConfig, trustedIssuers: readonly string[]): ConsoleSettings | undefined {
  if (!config.enabled) return undefined;
  const issuer = config.issuer ?? trustedIssuers[0];
  if (issuer === undefined) return undefined;
  if (!trustedIssuers.includes(issuer)) throw new GtbError('ERR_CONFIG_INVALID', `console.issuer ${issuer} is none of idps[].issuer: the broker would refuse its tokens`);
  return { issuer, clientId: config.clientId ?? null, scope: config.scope, resource: config.resource ?? null };
}
