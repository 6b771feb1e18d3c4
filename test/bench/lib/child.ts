/**
 * Child processes of the benchmark: TypeScript workers forked with IPC (load generators, baseline
 * servers, SDK callers) and plain spawned processes (the broker's own main.ts). Every child is
 * registered so that the runner can stop all of them on success, failure or its own deadline.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';

/** How a TypeScript file is run, exactly as `npm run bench` runs the runner. */
export const TS_EXEC_ARGV = ['--conditions=source', '--import', 'tsx'];

/**
 * Which CPU a child runs on, as the issue measured: load generators on CPU 0, servers under test
 * (brokers, baselines, the streamer) on CPU 1, so that a generator never takes CPU from the server
 * it measures. `BENCH_PIN=0` turns it off; off by itself with fewer than 2 CPUs or without `taskset`
 * (util-linux). Redis and the runner (sandbox, IdP) stay unpinned.
 */
export type CpuRole = 'load' | 'server';

let pinning: boolean | undefined;
/** True when children are pinned (see CpuRole). */
export function pinningEnabled(): boolean {
  if (pinning === undefined) {
    let hasTaskset = false;
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      hasTaskset = true;
    } catch { /* not installed */ }
    pinning = process.env['BENCH_PIN'] !== '0' && cpus().length >= 2 && hasTaskset;
  }
  return pinning;
}

/** The command prefix that runs a child on its role's CPU (empty when not pinning). */
function pinPrefix(role: CpuRole | undefined): string[] {
  return role && pinningEnabled() ? ['taskset', '-c', role === 'load' ? '0' : '1'] : [];
}

export interface WorkerMessage {
  type: string;
  [key: string]: unknown;
}

export interface WorkerHandle {
  readonly pid: number;
  readonly name: string;
  /** The next message of `type`; rejects on an `error` message, on exit, or after `timeoutMs`. */
  next<T extends WorkerMessage>(type: string, timeoutMs: number): Promise<T>;
  send(message: WorkerMessage): void;
  /** SIGTERM, then SIGKILL if it has not exited within 3 s. */
  stop(): Promise<void>;
}

/** Keeps every child the runner started, so that nothing outlives the run. */
export class ChildRegistry {
  readonly #children = new Set<{ name: string; proc: ChildProcess }>();

  /** Forks a TypeScript worker with an IPC channel. */
  forkWorker(name: string, file: string, env: Record<string, string> = {}, role?: CpuRole): WorkerHandle {
    // taskset execs node in place (same pid), keeping the IPC descriptor fork() hands over.
    const pin = pinPrefix(role);
    const proc = fork(file, [], {
      ...(pin.length ? { execPath: pin[0]!, execArgv: [...pin.slice(1), process.execPath, ...TS_EXEC_ARGV] } : { execArgv: TS_EXEC_ARGV }),
      env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#children.add({ name, proc });
    const inbox: WorkerMessage[] = [];
    const waiters = new Set<() => void>();
    let exited: string | undefined;
    proc.on('message', (m: WorkerMessage) => { inbox.push(m); for (const w of waiters) w(); });
    proc.on('exit', (code, signal) => { exited = `${name} exited (${code ?? signal})`; for (const w of waiters) w(); });
    return {
      pid: proc.pid ?? -1,
      name,
      next<T extends WorkerMessage>(type: string, timeoutMs: number): Promise<T> {
        return new Promise<T>((resolve, reject) => {
          const check = () => {
            const i = inbox.findIndex((m) => m.type === type || m.type === 'error');
            if (i >= 0) {
              const [m] = inbox.splice(i, 1);
              finish();
              if (m!.type === 'error') reject(new Error(`${name}: ${String(m!['message'])}`));
              else resolve(m as T);
            } else if (exited) {
              finish();
              reject(new Error(`${exited} while waiting for ${type}`));
            }
          };
          const timer = setTimeout(() => { finish(); reject(new Error(`${name}: no ${type} within ${timeoutMs} ms`)); }, timeoutMs);
          const finish = () => { clearTimeout(timer); waiters.delete(check); };
          waiters.add(check);
          check();
        });
      },
      send(message) {
        if (proc.connected) proc.send(message);
      },
      stop: () => stopProcess(proc),
    };
  }

  /** Spawns a TypeScript entry point without IPC (the broker's main.ts); stdout is dropped. */
  spawnTs(name: string, file: string, env: Record<string, string>, execArgv: string[] = [], role?: CpuRole): ChildProcess {
    const [cmd, ...pre] = [...pinPrefix(role), process.execPath];
    const proc = spawn(cmd!, [...pre, ...execArgv, ...(file.endsWith('.js') ? [file] : [...TS_EXEC_ARGV, file])], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    this.#children.add({ name, proc });
    // Keep the last lines of stderr (a broker refusing its config says why there).
    let tail = '';
    proc.stderr?.on('data', (chunk: Buffer) => { tail = (tail + chunk.toString('utf8')).slice(-2000); });
    proc.on('exit', (code, signal) => {
      if (code !== 0 && code !== null) console.error(`${name} exited with ${code ?? signal}: ${tail.trim()}`);
    });
    return proc;
  }

  /** Stops every child still running. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#children].map(({ proc }) => stopProcess(proc)));
    this.#children.clear();
  }
}

/** Stops one child by its own handle: SIGTERM, then SIGKILL after a grace period. */
export async function stopProcess(proc: ChildProcess, graceMs = 3000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
