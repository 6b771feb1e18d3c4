/**
 * A storm: `callers` concurrent callers each send exactly one request at the same instant, with
 * Node's own fetch. The connections are opened beforehand (one GET of `warmUrl` each, all at once,
 * so fetch's pool holds `callers` idle keep-alive connections) so that what is measured is the
 * answer, not the TCP handshake queue. autocannon has no such mode: it connects as it starts.
 */
import { performance } from 'node:perf_hooks';
import { encodeLatencies, latencyHistogram, recordMs, summarize, type LatencySummary } from './latency.js';

export interface StormOptions {
  url: string;
  /** A cheap endpoint on the same server to open the connections with. */
  warmUrl: string;
  headers?: Record<string, string>;
  callers: number;
  timeoutMs?: number;
}

export interface StormResult {
  callers: number;
  /** From the first request sent to the last answer read. */
  wallMs: number;
  latency: LatencySummary;
  /** Encoded histogram (see latency.ts), for the runner to merge. */
  histogram: string;
  statuses: Record<string, number>;
  firstError?: string;
}

/** Prepared storm: connections are open; `fire()` sends every caller's request at once. */
export interface PreparedStorm {
  /** How many of the warm-up requests were answered 200. */
  warmed: number;
  fire(): Promise<StormResult>;
}

/** One GET, body read; never rejects (a failure is status 0 with its reason). */
export async function getOnce(url: string, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; error?: string }> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return { status: res.status };
  } catch (err) {
    return { status: 0, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

/** Opens `callers` keep-alive connections and returns a storm ready to fire. */
export async function prepareStorm(options: StormOptions): Promise<PreparedStorm> {
  const { callers, timeoutMs = 30_000 } = options;
  if (!Number.isInteger(callers) || callers < 1) throw new RangeError('callers must be a positive integer');
  const headers = options.headers ?? {};
  const warm = await Promise.all(Array.from({ length: callers }, () => getOnce(options.warmUrl, {}, timeoutMs)));
  // fetch's pool marks a connection free a moment after its answer was read; fired at once, one
  // caller could otherwise open a connection of its own.
  await new Promise((resolve) => setTimeout(resolve, 100));
  return {
    warmed: warm.filter((o) => o.status === 200).length,
    async fire() {
      const histogram = latencyHistogram();
      const statuses: Record<string, number> = {};
      let firstError: string | undefined;
      const started = performance.now();
      await Promise.all(Array.from({ length: callers }, async () => {
        const t0 = performance.now();
        const outcome = await getOnce(options.url, headers, timeoutMs);
        recordMs(histogram, performance.now() - t0);
        statuses[String(outcome.status)] = (statuses[String(outcome.status)] ?? 0) + 1;
        if (outcome.error) firstError ??= outcome.error;
      }));
      return {
        callers, wallMs: Math.round(performance.now() - started), latency: summarize(histogram), histogram: encodeLatencies(histogram), statuses,
        ...(firstError ? { firstError } : {}),
      };
    },
  };
}
