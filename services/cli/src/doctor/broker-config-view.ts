import { z } from 'zod';
import { loadConfig } from '@gtb/config';

/**
 * The parts of the broker's configuration the doctor checks, read with the broker's own loader
 * rules (file, GTB_BROKER_* overrides, `…File`/`…Env` secrets). Loose on purpose: the broker
 * validates the whole file at start; the doctor reads what it needs to test connections.
 */
const viewSchema = z.looseObject({
  redis: z.looseObject({ mode: z.enum(['standalone', 'sentinel', 'cluster']) }),
  keyPrefix: z.string().optional(),
  idps: z.array(z.looseObject({ issuer: z.string(), allowInsecure: z.boolean().optional() })).min(1),
  profiles: z.array(z.looseObject({
    name: z.string(),
    region: z.string().optional(),
    loginBaseUrl: z.string().optional(),
    clientId: z.string(),
    clientSecret: z.string().optional(),
  })).min(1),
});

export type BrokerConfigView = z.output<typeof viewSchema>;

/** Loads the view from `file`; throws ERR_CONFIG_FILE / ERR_CONFIG_INVALID naming the setting. */
export function loadBrokerConfigView(file: string, env: Readonly<Record<string, string | undefined>>): BrokerConfigView {
  return loadConfig(viewSchema, { file, env: { ...env }, envPrefix: 'GTB_BROKER_' });
}
