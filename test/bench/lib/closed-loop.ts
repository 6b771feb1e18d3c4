/**
 * The closed-loop load of the hit path and of the scale-out steady phase, made by autocannon (used as
 * a library, in a worker process of its own so that it never shares the server's event loop).
 * autocannon without pipelining is a closed loop: every connection sends its next request when the
 * previous answer is read. Latencies come from its `response` event (fractional ms) into our
 * µs histogram: autocannon's own latency histogram counts whole milliseconds, too coarse for a
 * sub-millisecond hit path.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from './latency.js';
import { processCpuMs } from './process-cpu.js';

export interface ClosedLoopOptions {
  /** Targets: connection i goes to `urls[i % urls.length]` (autocannon's rule). */
  urls: string[];
  /** Paths every connection cycles through, in order; by default each URL's own path. */
  paths?: string[];
  headers?: Record<string, string>;
  /** Concurrent connections (each one request in flight). */
  connections: number;
  /** The measured phase's length; with `amount`, its hard limit instead. */
  durationMs: number;
  /** Stop after exactly this many answers (spread evenly over the connections) instead of at `durationMs`. */
  amount?: number;
  /** Cap on measured requests in a timed run, so a very fast target cannot run unbounded. */
  maxRequests?: number;
  /** An unmeasured run first (JIT and caches warm); its connections are then closed. */
  warmupMs?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** The server's process id: its CPU time over the measured phase is reported (Linux /proc). */
  serverPid?: number;
}

export interface ClosedLoopResult {
  /** Answers received in the measured phase (any status). */
  requests: number;
  /** From the start of the measured phase to its last answer. */
  durationMs: number;
  /** Answers a second. */
  rps: number;
  latency: LatencySummary;
  /** Answers by HTTP status; `0` counts connection errors and timeouts. */
  statuses: Record<string, number>;
  firstError?: string;
  /** With `serverPid`: the server's CPU time (user + system, all threads) over the measured phase, and per answer. */
  serverCpuMs?: number;
  serverCpuUsPerRequest?: number;
}

/** Runs the warm-up, then the measured phase; resolves with the measured phase's figures. */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const { connections, durationMs, warmupMs = 0 } = options;
  if (!Number.isInteger(connections) || connections < 1) throw new RangeError('connections must be a positive integer');
  if (!(durationMs > 0) || options.urls.length === 0) throw new RangeError('durationMs must be positive and urls non-empty');
  if (options.amount !== undefined && !(Number.isInteger(options.amount) && options.amount >= connections)) {
    throw new RangeError('amount must be an integer of at least connections');
  }
  if (warmupMs > 0) await once({ ...options, amount: undefined, maxRequests: undefined, durationMs: warmupMs });
  return once(options);
}

function once(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const { amount, durationMs, maxRequests, timeoutMs = 10_000 } = options;
  const histogram = latencyHistogram();
  const statuses: Record<string, number> = {};
  let firstError: string | undefined;
  let started = 0;
  let lastAnswer = 0;
  let cpuAtStart: number | undefined;
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      // autocannon takes an array of URLs (its README, "More than one url is supported"); the
      // DefinitelyTyped declaration only knows a string.
      url: options.urls as unknown as string,
      connections: options.connections,
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.paths ? { requests: options.paths.map((path) => ({ method: 'GET' as const, path })) } : {}),
      ...(amount !== undefined ? { amount } : { duration: durationMs / 1000, ...(maxRequests ? { maxOverallRequests: Math.max(maxRequests, options.connections) } : {}) }),
      timeout: timeoutMs / 1000,
      // autocannon notices the end (time up, or every connection done) at its next sample tick.
      sampleInt: 100,
    }, (err: unknown, result: autocannon.Result) => {
      clearTimeout(hardStop);
      if (err) return reject(err instanceof Error ? err : new Error(String(err)));
      const failures = result.errors; // connection errors, timeouts included
      if (failures > 0) statuses['0'] = failures;
      const requests = histogram.totalCount;
      const elapsed = Math.max(1, (lastAnswer || performance.now()) - (started || performance.now()));
      const cpuAtEnd = options.serverPid === undefined ? undefined : processCpuMs(options.serverPid);
      const serverCpuMs = cpuAtStart !== undefined && cpuAtEnd !== undefined ? cpuAtEnd - cpuAtStart : undefined;
      resolve({
        requests, durationMs: Math.round(elapsed), rps: Math.round((requests / elapsed) * 1000),
        latency: summarize(histogram), statuses, ...(firstError ? { firstError } : {}),
        ...(serverCpuMs !== undefined ? { serverCpuMs, serverCpuUsPerRequest: requests > 0 ? Math.round((serverCpuMs * 1000 / requests) * 10) / 10 : 0 } : {}),
      });
    });
    // A fixed-count run against a server that stops answering must still end.
    const hardStop = setTimeout(() => instance.stop(), (amount !== undefined ? durationMs : durationMs + timeoutMs) + 5_000);
    instance.on('start', () => {
      started = performance.now();
      if (options.serverPid !== undefined) cpuAtStart = processCpuMs(options.serverPid);
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      lastAnswer = performance.now();
      recordMs(histogram, responseTime);
      const key = String(statusCode);
      statuses[key] = (statuses[key] ?? 0) + 1;
    });
    instance.on('reqError', (err: unknown) => { firstError ??= err instanceof Error ? err.message : String(err); });
  });
}
