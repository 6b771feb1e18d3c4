/**
 * A small closed-loop HTTP load generator: N connections, each sends its next request as soon as
 * the previous answer is read, for a fixed time or request count, whichever comes first.
 * Written here rather than taken from autocannon when the project could not add packages; kept
 * because ~100 lines of node:http with a keep-alive Agent give what the scenarios need (a closed
 * loop, p50/p99, histograms that merge across worker processes) on loopback.
 * Runs inside a worker process (workers/load-worker.ts) so it never shares the server's event loop.
 */
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Histogram, type HistogramJson, type LatencySummary } from './histogram.js';
import { httpGet } from './http-get.js';

export interface ClosedLoopOptions {
  url: string;
  headers?: Record<string, string>;
  /** Concurrent connections (and in-flight requests). */
  connections: number;
  /** Measured phase length. */
  durationMs: number;
  /** Hard cap on measured requests, so a very fast target cannot run unbounded. */
  maxRequests: number;
  /** An unmeasured phase first (connections opened, JIT and caches warm). */
  warmupMs?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  now?: () => number;
}

export interface ClosedLoopResult {
  requests: number;
  durationMs: number;
  /** Completed requests a second (any status). */
  rps: number;
  latency: LatencySummary;
  histogram: HistogramJson;
  /** Answers by HTTP status; `0` counts requests that failed without one. */
  statuses: Record<string, number>;
  firstError?: string;
}

/** Runs the warm-up, then the measured phase; resolves with the measured phase's figures. */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const { connections, durationMs, maxRequests, warmupMs = 0, timeoutMs = 10_000, now = () => performance.now() } = options;
  if (!Number.isInteger(connections) || connections < 1) throw new RangeError('connections must be a positive integer');
  if (!(durationMs > 0) || !(maxRequests > 0)) throw new RangeError('durationMs and maxRequests must be positive');
  const url = new URL(options.url);
  const headers = options.headers ?? {};
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  try {
    if (warmupMs > 0) await phase(warmupMs, Math.max(maxRequests, 1), undefined);
    const histogram = new Histogram();
    const statuses: Record<string, number> = {};
    let firstError: string | undefined;
    const started = now();
    const requests = await phase(durationMs, maxRequests, { histogram, statuses, onError: (e) => { firstError ??= e; } });
    const elapsed = now() - started;
    return {
      requests, durationMs: Math.round(elapsed), rps: Math.round((requests / elapsed) * 1000),
      latency: histogram.summary(), histogram: histogram.toJSON(), statuses,
      ...(firstError ? { firstError } : {}),
    };
  } finally {
    agent.destroy();
  }

  async function phase(ms: number, cap: number, sink: { histogram: Histogram; statuses: Record<string, number>; onError: (e: string) => void } | undefined): Promise<number> {
    const deadline = now() + ms;
    let issued = 0;
    const loop = async () => {
      while (issued < cap && now() < deadline) {
        issued += 1;
        const t0 = now();
        const outcome = await httpGet(agent, url, headers, timeoutMs);
        if (!sink) continue;
        sink.histogram.record(now() - t0);
        const key = String(outcome.status);
        sink.statuses[key] = (sink.statuses[key] ?? 0) + 1;
        if (outcome.error) sink.onError(outcome.error);
      }
    };
    await Promise.all(Array.from({ length: connections }, loop));
    return issued;
  }
}
