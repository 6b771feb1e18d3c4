import type { FetchLike } from '@gtb/errors';
import type { ParsedArgs } from './args.js';

/** Where a command writes; the real process passes process.stdout / process.stderr. */
export interface Output {
  write(text: string): unknown;
}

/** Everything a command gets from outside; main.ts alone fills it from the process. */
export interface CliContext {
  env: Readonly<Record<string, string | undefined>>;
  stdout: Output;
  stderr: Output;
  fetch?: FetchLike;
  now?: () => number;
  /** Aborted on SIGINT/SIGTERM: long-running commands (events tail) stop cleanly. */
  signal?: AbortSignal;
}

/** One command's input: the parsed command line and the context. */
export interface CommandInput {
  args: ParsedArgs;
  ctx: CliContext;
  /** `--json`: machine output. */
  json: boolean;
}
