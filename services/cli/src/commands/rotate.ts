import { GtbError } from '@gtb/errors';
import { onlyOptions } from '../args.js';
import { brokerClientFor } from '../broker-settings.js';
import type { CommandInput } from '../context.js';
import { jsonLine, line } from '../output.js';

/** `gtb rotate <profile>`: mints a new token now (admin); prints its fingerprint, never the token. */
export async function rotateCommand(input: CommandInput): Promise<number> {
  onlyOptions(input.args, 'rotate', []);
  const [, profile, ...rest] = input.args.positionals;
  if (!profile || rest.length > 0) throw new GtbError('ERR_USAGE', 'usage: gtb rotate <profile>');
  const client = await brokerClientFor(input);
  const result = await client.rotate(profile);
  const expiresAt = new Date(result.expiresAt).toISOString();
  if (input.json) jsonLine(input, { profile: result.profile, fingerprint: result.fingerprint, expires_at: expiresAt });
  else line(input, `rotated ${result.profile}: new token ${result.fingerprint}, expires ${expiresAt}`);
  return 0;
}
