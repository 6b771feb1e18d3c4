/**
 * How the broker's Node process is started: its Node flags and its environment, read from the
 * runtime stage of infra/docker/broker.Dockerfile (its `CMD` and `ENV` lines). The Dockerfile is the
 * one place they are written; the Kubernetes Deployment and compose use the image's command as it
 * is, and `npm start` (infra/local/start.ts) and the benchmark (test/bench/lib/broker-process.ts)
 * launch the broker with what this returns, so that what is measured is what ships
 * (test/system/infra-artifacts.test.ts checks that nothing overrides it).
 *
 * Hand-written: a Dockerfile parser library would be a dependency for two instructions of one file,
 * whose form (exec-form CMD, unquoted `ENV KEY=value` pairs) this checks and refuses otherwise.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BROKER_DOCKERFILE = fileURLToPath(new URL('./broker.Dockerfile', import.meta.url));

export interface BrokerRuntime {
  /** Node's own flags, between `node` and the script (e.g. `--max-semi-space-size=2`). */
  nodeArgs: string[];
  /** The script, relative to the image's working directory (the repository root). */
  entry: string;
  /** The runtime stage's `ENV` variables (e.g. NODE_ENV, MALLOC_ARENA_MAX). */
  env: Record<string, string>;
}

/** The Dockerfile's instructions: comments and blank lines dropped, continuation lines joined. */
function instructions(text: string): string[] {
  return text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** Parses the runtime stage (after the last FROM) of a broker Dockerfile's text. */
export function parseBrokerRuntime(text: string): BrokerRuntime {
  const lines = instructions(text);
  const lastFrom = lines.findLastIndex((l) => /^FROM\s/i.test(l));
  if (lastFrom < 0) throw new Error('broker.Dockerfile: no FROM');
  const runtime = lines.slice(lastFrom + 1);
  const cmds = runtime.filter((l) => /^CMD\s/i.test(l));
  if (cmds.length !== 1) throw new Error(`broker.Dockerfile: expected one CMD in the runtime stage, found ${cmds.length}`);
  const argv = JSON.parse(cmds[0]!.replace(/^CMD\s+/i, '')) as unknown;
  if (!Array.isArray(argv) || argv.length < 2 || !argv.every((a) => typeof a === 'string')) throw new Error('broker.Dockerfile: CMD is not an exec-form array of strings');
  const [bin, ...rest] = argv as string[];
  if (bin !== 'node') throw new Error(`broker.Dockerfile: CMD runs ${bin}, not node`);
  const entry = rest.at(-1)!;
  const nodeArgs = rest.slice(0, -1);
  if (!entry.endsWith('.js') || nodeArgs.some((a) => !a.startsWith('--'))) throw new Error('broker.Dockerfile: CMD is not `node [--flags…] <script.js>`');
  const env: Record<string, string> = {};
  for (const line of runtime.filter((l) => /^ENV\s/i.test(l))) {
    for (const pair of line.replace(/^ENV\s+/i, '').split(/\s+/)) {
      const m = /^([A-Z_][A-Z0-9_]*)=([^"'\s$]*)$/i.exec(pair);
      if (!m) throw new Error(`broker.Dockerfile: ENV ${pair} is not an unquoted KEY=value pair`);
      env[m[1]!] = m[2]!;
    }
  }
  return { nodeArgs, entry, env };
}

/** The broker's runtime as infra/docker/broker.Dockerfile ships it. */
export function brokerRuntime(): BrokerRuntime {
  return parseBrokerRuntime(readFileSync(BROKER_DOCKERFILE, 'utf8'));
}
