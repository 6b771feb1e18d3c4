/**
 * A broker replica as production runs it: its own process running the compiled
 * services/broker/dist/main.js (`npm run bench` builds first; through tsx it ran ~7 % slower)
 * with the image's Node flags and environment (read from infra/docker/broker.Dockerfile by
 * `brokerRuntime()`, e.g. `--max-semi-space-size`), configured by a file named in
 * GTB_BROKER_CONFIG_FILE. The file holds the sandbox client secret and the encryption key, so it is
 * written 0600 into the run's private temp folder.
 *
 * For experiments only, BENCH_BROKER_NODE_ARGS (space-separated; empty for none) replaces the
 * image's Node flags and BENCH_BROKER_ENV (`K=v K2=v2`; empty for none) the image's variables. The
 * run's JSON records what the brokers ran with (`brokerRuntime()` below).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brokerRuntime, type BrokerRuntime } from '../../../infra/docker/broker-runtime.js';
import { waitUntilReady } from '../../support/system.js';
import type { ChildRegistry } from './child.js';
import { stopProcess } from './child.js';
import { freePort } from './free-port.js';
import { processRssMiB } from './process-cpu.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** What the bench's brokers run with: the image's, or the experiment's overrides (see above). */
export function benchBrokerRuntime(env: NodeJS.ProcessEnv = process.env): BrokerRuntime & { overridden: boolean } {
  const shipped = brokerRuntime();
  const args = env['BENCH_BROKER_NODE_ARGS'];
  const vars = env['BENCH_BROKER_ENV'];
  const parsedVars = vars === undefined ? shipped.env : Object.fromEntries(vars.split(/\s+/).filter(Boolean).map((kv) => {
    const i = kv.indexOf('=');
    if (i < 1) throw new Error(`BENCH_BROKER_ENV: ${kv} is not KEY=value`);
    return [kv.slice(0, i), kv.slice(i + 1)];
  }));
  return {
    nodeArgs: args === undefined ? shipped.nodeArgs : args.split(/\s+/).filter(Boolean),
    entry: shipped.entry,
    env: parsedVars,
    overridden: args !== undefined || vars !== undefined,
  };
}

export interface BrokerProcess {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * The script, Node flags and variables a bench broker is spawned with: the runtime's flags first,
 * then the scenario's own (a profiler, a heap-snapshot signal), its variables over the runtime's.
 */
export function brokerLaunch(runtime: BrokerRuntime, execArgv: string[] = [], env: Record<string, string> = {}): { main: string; execArgv: string[]; env: Record<string, string> } {
  return { main: join(ROOT, runtime.entry), execArgv: [...runtime.nodeArgs, ...execArgv], env: { ...runtime.env, ...env } };
}

/** Starts one broker process with `config` (the pre-parse object) and waits for /readyz. */
export async function startBrokerProcess(registry: ChildRegistry, options: { name: string; config: Record<string, unknown>; dir: string; readyTimeoutMs?: number; execArgv?: string[]; env?: Record<string, string> }): Promise<BrokerProcess> {
  const port = await freePort();
  const http = { ...(options.config['http'] as Record<string, unknown>), host: '127.0.0.1', port };
  const file = join(options.dir, `${options.name}.json`);
  await writeFile(file, JSON.stringify({ ...options.config, instanceId: options.name, http }), { mode: 0o600 });
  // BENCH_CPU_PROF_DIR=<dir>: each broker writes a V8 CPU profile there when it exits (open it in Chrome DevTools).
  const profDir = process.env['BENCH_CPU_PROF_DIR'];
  const profArgv = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${options.name}.cpuprofile`] : [];
  const launch = brokerLaunch(benchBrokerRuntime(), [...profArgv, ...(options.execArgv ?? [])], { ...options.env, GTB_BROKER_CONFIG_FILE: file });
  const proc = registry.spawnTs(options.name, launch.main, launch.env, launch.execArgv, 'server');
  const url = `http://127.0.0.1:${port}`;
  const died = new Promise<never>((_resolve, reject) => {
    proc.once('exit', (code, signal) => reject(new Error(`${options.name} exited (${code ?? signal}) before it was ready`)));
  });
  died.catch(() => undefined);
  await Promise.race([waitUntilReady(url, options.readyTimeoutMs ?? 30_000), died]);
  return { name: options.name, url, pid: proc.pid ?? -1, stop: () => stopProcess(proc) };
}

/**
 * Samples the resident memory (VmRSS) of `pids` every `everyMs` until `stop()`, which returns the
 * largest reading of each (MiB; 0 if never readable). A single reading after the load can fall
 * anywhere in V8's garbage-collection cycle; the peak says how high it went in between.
 */
export function sampleRssPeaks(pids: number[], everyMs = 250): { stop(): number[] } {
  const peaks = pids.map(() => 0);
  const sample = () => pids.forEach((pid, i) => { peaks[i] = Math.max(peaks[i]!, processRssMiB(pid) ?? 0); });
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return { stop: () => { clearInterval(timer); sample(); return [...peaks]; } };
}
