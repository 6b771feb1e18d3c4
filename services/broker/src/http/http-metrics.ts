import type { Request, Response, NextFunction, RequestHandler } from 'express';
import type { BrokerMetrics } from '../metrics.js';

/**
 * Counts requests by route, method and status and times them by route. The labelled children are
 * cached: prom-client hashes the label set on every `inc`/`observe`, which showed up at ~10 % of
 * the hit path's CPU in the benchmark's profile. Routes are the Express patterns, so the label
 * space stays small (an unmatched path is `unmatched`, never the raw URL).
 */
export function httpMetrics(metrics: BrokerMetrics): RequestHandler {
  const counters = new Map<string, { inc(): void }>();
  const timers = new Map<string, { observe(v: number): void }>();
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      const key = `${route} ${req.method} ${res.statusCode}`;
      let counter = counters.get(key);
      if (!counter) {
        counter = metrics.httpRequests.labels({ route, method: req.method, status: String(res.statusCode) });
        counters.set(key, counter);
      }
      counter.inc();
      let timer = timers.get(route);
      if (!timer) {
        timer = metrics.httpDuration.labels({ route });
        timers.set(route, timer);
      }
      timer.observe(Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
