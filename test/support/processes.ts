import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childHandle, collectLines } from './child-handle.js';
import { waitUntilReady } from './system.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'services', 'broker', 'src', 'main.ts');
/** Lines of a child's output kept for diagnostics; older ones are dropped. */
const MAX_LINES = 2_000;

// Children still running when the test process exits (a crashed or timed-out test file) would
// outlive it and keep Redis connections open: they are killed on the way out.
const live = new Set<ChildProcess>();
process.once('exit', () => { for (const child of live) child.kill('SIGKILL'); });

/** A broker replica running as its own Node process (what production runs). */
export interface BrokerProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** The last lines the process wrote (stdout and stderr), for failure messages. */
  lines: string[];
  /** Resolves with the exit code or signal once the process has ended. */
  exited: Promise<number | string>;
  /** SIGKILL, no drain: what an OOM kill or a node failure looks like. */
  kill(): Promise<void>;
  /** SIGTERM (drain), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnBrokerOptions {
  /** The configuration as a config file holds it (see `brokerConfigFor`); http.port should be 0. */
  config: Record<string, unknown>;
  /** How long to wait for `broker listening` and then `/readyz` 200. */
  readyTimeoutMs?: number;
  /** Skip the `/readyz` wait (a broker started while Redis is down). */
  waitReady?: boolean;
  /** Extra environment of the process (OTEL_* for a tracing test). */
  env?: Record<string, string>;
}

/**
 * Starts `services/broker/src/main.ts` as a child process with the configuration written to a
 * temporary file (`GTB_BROKER_CONFIG_FILE`), learns its port from the `broker listening` log line,
 * and waits until it is ready. `GTB_BROKER_*` variables of the test process are not passed on.
 */
export async function spawnBroker(options: SpawnBrokerOptions): Promise<BrokerProcess> {
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const dir = await mkdtemp(join(tmpdir(), 'gtb-broker-'));
  const file = join(dir, 'broker.json');
  await writeFile(file, JSON.stringify(options.config), { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GTB_BROKER_') && !k.startsWith('NODE_TEST')) env[k] = v;
  Object.assign(env, options.env);
  env.GTB_BROKER_CONFIG_FILE = file;
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const lines: string[] = [];
  let resolveUrl: (url: string) => void = () => {};
  const urlSeen = new Promise<string>((r) => { resolveUrl = r; });
  const onLine = (line: string) => {
    if (line.includes('"broker listening"')) {
      try {
        resolveUrl(String((JSON.parse(line) as { url: string }).url));
      } catch { /* not JSON: keep waiting */ }
    }
  };
  collectLines(child.stdout!, lines, onLine, MAX_LINES);
  collectLines(child.stderr!, lines, onLine, MAX_LINES);
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => { live.delete(child); r(code ?? signal ?? 'unknown'); }));
  void exited.finally(() => rm(dir, { recursive: true, force: true }).catch(() => undefined));

  const fail = (why: string) => new Error(`broker process ${child.pid}: ${why}\n${lines.slice(-30).join('\n')}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    const url = await Promise.race([
      urlSeen,
      exited.then((code) => { throw fail(`exited (${code}) before listening`); }),
      new Promise<never>((_r, reject) => { timer = setTimeout(() => reject(fail(`not listening after ${timeoutMs} ms`)), timeoutMs); }),
    ]);
    if (options.waitReady !== false) await waitUntilReady(url, timeoutMs);
    const proc: BrokerProcess = {
      url, pid: child.pid!, child, lines, exited,
      ...childHandle(child, exited),
    };
    return proc;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Starts `count` replicas of one configuration in parallel (each its own instanceId). */
export async function spawnBrokers(count: number, config: Record<string, unknown>, options: Omit<SpawnBrokerOptions, 'config'> = {}): Promise<BrokerProcess[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, (_v, i) =>
    spawnBroker({ ...options, config: { ...config, instanceId: `${String(config.instanceId ?? 'broker')}-r${i}` } })));
  const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(ok.map((b) => b.kill()));
    throw failed.reason;
  }
  return ok;
}
