/** The worker side of the runner's IPC: typed send, a message handler, errors reported not thrown. */
import type { WorkerMessage } from '../lib/child.js';

/** Sends a message to the runner (no-op when run without IPC). */
export function toRunner(message: WorkerMessage): void {
  process.send?.(message);
}

/** Handles runner messages; a failing handler is reported as an `error` message. */
export function onRunnerMessage(handler: (message: WorkerMessage) => Promise<void> | void): void {
  if (!process.send) {
    console.error('this worker is started by test/bench/run.ts (it needs an IPC channel)');
    process.exit(2);
  }
  process.on('message', (message: WorkerMessage) => {
    if (message.type === 'exit') process.exit(0);
    Promise.resolve()
      .then(() => handler(message))
      .catch((err: unknown) => toRunner({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
  });
  // The runner going away (crash, Ctrl-C) must not leave this worker behind.
  process.on('disconnect', () => process.exit(0));
}
