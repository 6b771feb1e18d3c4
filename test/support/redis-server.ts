import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, createConnection } from 'node:net';

// A server left running by a crashed test file would hold its port forever: killed on the way out.
const live = new Set<ChildProcess>();
process.once('exit', () => { for (const child of live) child.kill('SIGKILL'); });

/** A private redis-server on a loopback port of its own, which a test may stop and start again. */
export interface PrivateRedis {
  port: number;
  url: string;
  /** True while the server process runs. */
  running(): boolean;
  /** Starts the server (again) on the same port; resolves once it answers PING. */
  start(): Promise<void>;
  /** Stops the server (SIGTERM; no persistence, so nothing is saved) and waits for its exit. */
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when something on `port` answers `PING` with `+PONG`. */
export function pingRedis(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(String(d).startsWith('+PONG')));
  });
}

/**
 * Starts `redis-server --port <free port> --save '' --appendonly no` on 127.0.0.1. Never touches
 * the shared Redis on 6379: tests that stop Redis use this one.
 */
export async function startPrivateRedis(options: { port?: number; startTimeoutMs?: number } = {}): Promise<PrivateRedis> {
  const port = options.port ?? await freePort();
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';

  const redis: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    async start() {
      if (redis.running()) return;
      const proc = spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      live.add(proc);
      const keep = (d: Buffer) => { output = (output + String(d)).slice(-4000); };
      proc.stdout?.on('data', keep);
      proc.stderr?.on('data', keep);
      exited = new Promise((r) => proc.once('exit', () => { live.delete(proc); r(); }));
      const deadline = Date.now() + startTimeoutMs;
      while (Date.now() < deadline) {
        if (!redis.running()) throw new Error(`redis-server on ${port} exited at start: ${output}`);
        if (await pingRedis(port)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      proc.kill('SIGKILL');
      throw new Error(`redis-server on ${port} does not answer after ${startTimeoutMs} ms: ${output}`);
    },
    async stop() {
      if (!redis.running()) return;
      const proc = child!;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
  await redis.start();
  return redis;
}
