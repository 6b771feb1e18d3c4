/**
 * A storm: `callers` concurrent callers each send exactly one request at the same instant. The
 * connections are opened beforehand (one GET of `warmUrl` each) so that what is measured is the
 * answer, not the TCP handshake queue.
 */
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Histogram, type HistogramJson, type LatencySummary } from './histogram.js';
import { httpGet } from './http-get.js';

export interface StormOptions {
  url: string;
  /** A cheap endpoint on the same server to open the connections with. */
  warmUrl: string;
  headers?: Record<string, string>;
  callers: number;
  timeoutMs?: number;
  now?: () => number;
}

export interface StormResult {
  callers: number;
  /** From the first request sent to the last answer read. */
  wallMs: number;
  latency: LatencySummary;
  histogram: HistogramJson;
  statuses: Record<string, number>;
  firstError?: string;
}

/** Prepared storm: connections are open; `fire()` sends every caller's request at once. */
export interface PreparedStorm {
  /** How many of the callers' connections the warm-up opened successfully. */
  warmed: number;
  fire(): Promise<StormResult>;
  close(): void;
}

/** Opens `callers` keep-alive connections and returns a storm ready to fire. */
export async function prepareStorm(options: StormOptions): Promise<PreparedStorm> {
  const { callers, timeoutMs = 30_000, now = () => performance.now() } = options;
  if (!Number.isInteger(callers) || callers < 1) throw new RangeError('callers must be a positive integer');
  const agent = new Agent({ keepAlive: true, maxSockets: callers, maxFreeSockets: callers, keepAliveMsecs: 60_000 });
  const warm = await Promise.all(Array.from({ length: callers }, () => httpGet(agent, new URL(options.warmUrl), {}, timeoutMs)));
  const url = new URL(options.url);
  const headers = options.headers ?? {};
  return {
    warmed: warm.filter((o) => o.status === 200).length,
    async fire() {
      const histogram = new Histogram();
      const statuses: Record<string, number> = {};
      let firstError: string | undefined;
      const started = now();
      await Promise.all(Array.from({ length: callers }, async () => {
        const t0 = now();
        const outcome = await httpGet(agent, url, headers, timeoutMs);
        histogram.record(now() - t0);
        statuses[String(outcome.status)] = (statuses[String(outcome.status)] ?? 0) + 1;
        if (outcome.error) firstError ??= outcome.error;
      }));
      return {
        callers, wallMs: Math.round(now() - started), latency: histogram.summary(), histogram: histogram.toJSON(), statuses,
        ...(firstError ? { firstError } : {}),
      };
    },
    close: () => agent.destroy(),
  };
}
