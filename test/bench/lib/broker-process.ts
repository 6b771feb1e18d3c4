/**
 * A broker replica as production runs it: its own process running the compiled
 * services/broker/dist/main.js (`npm run bench` builds first; through tsx it ran ~7 % slower),
 * configured by a file named in GTB_BROKER_CONFIG_FILE. The file holds the sandbox client secret
 * and the encryption key, so it is written 0600 into the run's private temp folder.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitUntilReady } from '../../support/system.js';
import type { ChildRegistry } from './child.js';
import { stopProcess } from './child.js';
import { freePort } from './free-port.js';

const MAIN = fileURLToPath(new URL('../../../services/broker/dist/main.js', import.meta.url));

export interface BrokerProcess {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts one broker process with `config` (the pre-parse object) and waits for /readyz. */
export async function startBrokerProcess(registry: ChildRegistry, options: { name: string; config: Record<string, unknown>; dir: string; readyTimeoutMs?: number; execArgv?: string[]; env?: Record<string, string> }): Promise<BrokerProcess> {
  const port = await freePort();
  const http = { ...(options.config['http'] as Record<string, unknown>), host: '127.0.0.1', port };
  const file = join(options.dir, `${options.name}.json`);
  await writeFile(file, JSON.stringify({ ...options.config, instanceId: options.name, http }), { mode: 0o600 });
  // BENCH_CPU_PROF_DIR=<dir>: each broker writes a V8 CPU profile there when it exits (open it in Chrome DevTools).
  const profDir = process.env['BENCH_CPU_PROF_DIR'];
  const execArgv = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${options.name}.cpuprofile`] : [];
  const proc = registry.spawnTs(options.name, MAIN, { ...options.env, GTB_BROKER_CONFIG_FILE: file }, [...execArgv, ...(options.execArgv ?? [])], 'server');
  const url = `http://127.0.0.1:${port}`;
  const died = new Promise<never>((_resolve, reject) => {
    proc.once('exit', (code, signal) => reject(new Error(`${options.name} exited (${code ?? signal}) before it was ready`)));
  });
  died.catch(() => undefined);
  await Promise.race([waitUntilReady(url, options.readyTimeoutMs ?? 30_000), died]);
  return { name: options.name, url, pid: proc.pid ?? -1, stop: () => stopProcess(proc) };
}
