import { Registry, Counter, Histogram, Gauge, collectDefaultMetrics } from 'prom-client';

/** The broker's Prometheus metrics, in a registry of its own (so several apps can live in one test process). */
export function createBrokerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gtb_broker_' });
  const metrics = {
    registry,
    httpRequests: new Counter({ name: 'gtb_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    fastPathAnswers: new Counter({ name: 'gtb_http_fast_path_total', help: 'Token requests answered from memory ahead of the middleware stack (a subset of gtb_http_requests_total)', registers: [registry] }),
    httpDuration: new Histogram({ name: 'gtb_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['route'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] }),
    cacheHits: new Counter({ name: 'gtb_token_cache_hits_total', help: 'Token cache hits by layer (l1 in process, l2 Redis)', labelNames: ['layer'], registers: [registry] }),
    cacheMisses: new Counter({ name: 'gtb_token_cache_misses_total', help: 'Token cache misses (no usable token in L1 or L2)', registers: [registry] }),
    mints: new Counter({ name: 'gtb_upstream_mints_total', help: 'Upstream Genesys token requests by outcome', labelNames: ['profile', 'outcome'], registers: [registry] }),
    mintDuration: new Histogram({ name: 'gtb_upstream_mint_duration_seconds', help: 'Upstream token request latency', labelNames: ['profile'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
    lockWait: new Histogram({ name: 'gtb_lock_wait_seconds', help: 'Time callers waited for another replica\'s mint', buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10], registers: [registry] }),
    throttles: new Counter({ name: 'gtb_upstream_throttles_total', help: 'Upstream throttling answers (429 or login 400 rate limit)', labelNames: ['profile'], registers: [registry] }),
    policyDenials: new Counter({ name: 'gtb_policy_denials_total', help: 'Requests denied by the access policy', labelNames: ['kind'], registers: [registry] }),
    authFailures: new Counter({ name: 'gtb_auth_failures_total', help: 'Failed authentications by reason (expired, signature, …; too_many_failures: refused unverified)', labelNames: ['reason'], registers: [registry] }),
    ready: new Gauge({ name: 'gtb_ready', help: '1 when the broker reports ready', registers: [registry] }),
  };
  return metrics;
}

export type BrokerMetrics = ReturnType<typeof createBrokerMetrics>;

/** Adapts the metrics to the token service's observer hooks. */
export function tokenObserver(metrics: BrokerMetrics) {
  // Labelled children made once: resolving labels on every hit is measurable on the hit path.
  const hits = { l1: metrics.cacheHits.labels({ layer: 'l1' }), l2: metrics.cacheHits.labels({ layer: 'l2' }) };
  return {
    cacheHit: (layer: 'l1' | 'l2') => hits[layer].inc(),
    cacheMiss: () => metrics.cacheMisses.inc(),
    mintFinished: (profile: string, ms: number, outcome: string) => {
      metrics.mints.inc({ profile, outcome });
      metrics.mintDuration.observe({ profile }, ms / 1000);
    },
    lockWait: (ms: number) => metrics.lockWait.observe(ms / 1000),
    throttled: (profile: string) => metrics.throttles.inc({ profile }),
  };
}
