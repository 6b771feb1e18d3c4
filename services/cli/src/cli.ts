import { GtbError } from '@gtb/errors';
import { parseCommandLine } from './args.js';
import type { CliContext, CommandInput } from './context.js';
import { exitCodeFor } from './exit-codes.js';
import { printError } from './output.js';
import { doctorCommand } from './commands/doctor.js';
import { eventsTailCommand } from './commands/events-tail.js';
import { helpCommand } from './commands/help.js';
import { leasesCommand } from './commands/leases.js';
import { rotateCommand } from './commands/rotate.js';
import { tokenCommand } from './commands/token.js';

export { EXIT, exitCodeFor, type ExitCode } from './exit-codes.js';
export type { CliContext, Output } from './context.js';

const COMMANDS: Record<string, (input: CommandInput) => Promise<number>> = {
  token: tokenCommand,
  events: eventsTailCommand,
  leases: leasesCommand,
  rotate: rotateCommand,
  doctor: doctorCommand,
  help: helpCommand,
};

/** Runs one gtb command line and returns its exit code. Reads nothing from the process: `ctx` has it all. */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  const json = argv.includes('--json');
  try {
    const args = parseCommandLine(argv);
    const input: CommandInput = { args, ctx, json: args.values.json === true };
    const name = args.positionals[0];
    if (args.values.help || name === undefined) return await helpCommand(input);
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!command) throw new GtbError('ERR_USAGE', `unknown command ${JSON.stringify(name.slice(0, 40))}`);
    return await command(input);
  } catch (err) {
    printError({ ctx, json }, err);
    return exitCodeFor(err);
  }
}
