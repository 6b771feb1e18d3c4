import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, pingRedis } from '../../../../test/support/redis-server.js';

/**
 * A private redis-server that keeps its data across a stop and start (AOF, fsync always), unlike
 * the shared `startPrivateRedis` (no persistence): the Redis-outage test must still find, after
 * the restart, what was written before the stop. Never the shared Redis on 6379.
 */
export interface DurableRedis {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** Starts it on a free loopback port with its data in a temporary directory. */
export async function startDurableRedis(): Promise<DurableRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'gtb-redis-'));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const redis: DurableRedis = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (running()) return;
      const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
        '--appendonly', 'yes', '--appendfsync', 'always', '--daemonize', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
      child = proc;
      exited = new Promise((r) => proc.once('exit', () => r()));
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if (!running()) throw new Error(`redis-server on ${port} exited at start`);
        if (await pingRedis(port)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`redis-server on ${port} does not answer`);
    },
    async stop() {
      if (!running()) return;
      child!.kill('SIGTERM');
      await exited;
    },
    async close() {
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await redis.start();
  return redis;
}
