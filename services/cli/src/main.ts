#!/usr/bin/env node
/** The `gtb` executable: the one place that reads the process (argv, env, signals) and exits. */
import { runCli } from './cli.js';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => controller.abort());
}
const code = await runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr, signal: controller.signal });
// Let stdout drain (a pipe may be slow), then exit: open Redis sockets must not keep the process alive.
process.stdout.write('', () => process.exit(code));
