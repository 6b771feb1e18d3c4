/**
 * The stream-rate scenario's event source, in its own process (pinned with the load generators), so
 * that generating events shares neither the streamer's event loop nor the runner's: a whole stream
 * system (`services/streamer/test/support/stream-system.ts`: the sandbox, the test IdP, an
 * in-process broker, a fresh Redis key prefix). Messages from the runner:
 * - (at start) → `ready {prefix, config}`: the streamer configuration for this system (before overrides)
 * - `generate {request}` (the sandbox's `GenerateEventsRequest`) → `generated {result, startedAt,
 *   endedAt, cpuMs}`: epoch ms around the generation (the last event was written to the socket just
 *   before `endedAt`) and this process's CPU time over it
 * - `close` → `closed` (deletes the prefix's keys in batches, stops the system)
 */
import { performance } from 'node:perf_hooks';
import type { GenerateEventsRequest } from '@gtb/sandbox';
import { startStreamSystem } from '../../../services/streamer/test/support/stream-system.js';
import { deleteSystemKeys } from '../scenarios/stream-rate.js';
import { onRunnerMessage, toRunner } from './ipc.js';

const sys = await startStreamSystem();
let closing = false;

onRunnerMessage(async (message) => {
  if (message.type === 'generate') {
    if (closing) throw new Error('generate after close');
    const request = message['request'] as GenerateEventsRequest;
    const cpu = process.cpuUsage();
    const startedAt = Date.now();
    const t0 = performance.now();
    const result = await sys.sandbox.admin.generateEvents(request);
    const durationMs = performance.now() - t0;
    const endedAt = Date.now();
    const used = process.cpuUsage(cpu);
    toRunner({ type: 'generated', result, startedAt, endedAt, durationMs, cpuMs: (used.user + used.system) / 1000 });
  } else if (message.type === 'close') {
    closing = true;
    await deleteSystemKeys(sys).catch(() => undefined);
    await sys.close();
    toRunner({ type: 'closed' });
  }
});
toRunner({ type: 'ready', prefix: sys.prefix, config: sys.streamerConfig() });
