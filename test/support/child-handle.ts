// Helpers for the service processes tests spawn: ending them, and reading their output as lines.
import type { ChildProcess } from 'node:child_process';

/** The two ways a test ends a spawned service process. */
export interface ChildHandle {
  /** SIGKILL, no drain: what an OOM kill or a node failure looks like. */
  kill(): Promise<void>;
  /** SIGTERM (drain), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** `kill()` and `stop(graceMs)` for `child`, both settled by `exited` (its exit promise); no-ops once it has ended. */
export function childHandle(child: ChildProcess, exited: Promise<unknown>): ChildHandle {
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  return {
    async kill() {
      if (!ended()) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 5_000) {
      if (ended()) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * Splits a child's output `stream` into lines: each is kept in `lines` (the last `max` of them, for
 * failure messages) and handed to `onLine`. A last line without a newline waits for the next chunk.
 */
export function collectLines(stream: NodeJS.ReadableStream, lines: string[], onLine: (line: string) => void = () => {}, max = 2_000): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (lines.length > max) lines.shift();
      onLine(line);
    }
  });
}
