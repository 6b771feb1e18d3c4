import { parseArgs } from 'node:util';
import { GtbError } from '@gtb/errors';

/** Every option of every command; each command checks it was given only its own. */
const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  'token-file': { type: 'string' },
  type: { type: 'string', multiple: true },
  subject: { type: 'string', multiple: true },
  since: { type: 'string' },
  lines: { type: 'string', short: 'n' },
  once: { type: 'boolean' },
  'redis-url': { type: 'string' },
  'key-prefix': { type: 'string' },
  config: { type: 'string' },
  profile: { type: 'string' },
} as const;

export type OptionName = keyof typeof OPTIONS;

export interface ParsedArgs {
  positionals: string[];
  values: {
    help?: boolean; json?: boolean; url?: string; 'token-file'?: string; type?: string[]; subject?: string[];
    since?: string; lines?: string; once?: boolean; 'redis-url'?: string; 'key-prefix'?: string; config?: string; profile?: string;
  };
}

/** Parses the command line strictly; unknown options are ERR_USAGE. */
export function parseCommandLine(argv: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    return { values, positionals };
  } catch (err) {
    throw new GtbError('ERR_USAGE', (err as Error).message, { cause: err });
  }
}

/** Throws ERR_USAGE if an option outside `allowed` was given. */
export function onlyOptions(args: ParsedArgs, command: string, allowed: OptionName[]): void {
  const common: OptionName[] = ['help', 'json', 'url', 'token-file'];
  for (const name of Object.keys(args.values) as OptionName[]) {
    if (!common.includes(name) && !allowed.includes(name)) throw new GtbError('ERR_USAGE', `option --${name} does not apply to "gtb ${command}"`);
  }
}
