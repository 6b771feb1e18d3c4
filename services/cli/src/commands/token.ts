import { GtbError } from '@gtb/errors';
import { tokenBody } from '@gtb/genesys';
import { onlyOptions } from '../args.js';
import { brokerClientFor } from '../broker-settings.js';
import type { CommandInput } from '../context.js';
import { jsonLine, line } from '../output.js';

/**
 * `gtb token <profile>`: prints the Genesys token alone on stdout (so it can be piped into a
 * header), or with --json the broker's token body. The one command that prints a token.
 */
export async function tokenCommand(input: CommandInput): Promise<number> {
  onlyOptions(input.args, 'token', []);
  const [, profile, ...rest] = input.args.positionals;
  if (!profile || rest.length > 0) throw new GtbError('ERR_USAGE', 'usage: gtb token <profile>');
  const client = await brokerClientFor(input);
  const token = await client.getToken(profile);
  if (input.json) {
    const now = (input.ctx.now ?? Date.now)();
    jsonLine(input, tokenBody(token, now));
  } else {
    line(input, token.accessToken);
  }
  return 0;
}
