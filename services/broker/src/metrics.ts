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
    lockTimeouts: new Counter({ name: 'gtb_lock_wait_timeouts_total', help: 'Callers that gave up waiting for another replica\'s mint (ERR_LOCK_TIMEOUT)', labelNames: ['profile'], registers: [registry] }),
    leasesExpired: new Counter({ name: 'gtb_leases_expired_total', help: 'Leases that expired without renewal (swept; counted once cluster-wide, by the replica that swept them)', labelNames: ['profile'], registers: [registry] }),
  };
  return metrics;
}

/** What this replica holds in memory per profile, read when Prometheus scrapes (no Redis call). */
export interface HeldState {
  profile: string;
  /** Epoch ms of the expiry of the token this replica holds, when it holds one. */
  expiresAt?: number | undefined;
  circuit: 'closed' | 'open' | 'half-open';
}

/**
 * Gauges computed at scrape time: the expiry of each profile's token as this replica holds it
 * (alerts compare the newest across replicas with the time), the circuit breaker of each profile,
 * and whether this replica's Redis connection is up.
 */
export function stateGauges(metrics: BrokerMetrics, source: { held(): HeldState[]; redisUp(): boolean }): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'gtb_token_expires_at_seconds', help: 'Expiry (Unix seconds) of the token this replica holds per profile; absent when it holds none', labelNames: ['profile'], registers,
    collect() {
      this.reset();
      for (const h of source.held()) if (h.expiresAt !== undefined) this.set({ profile: h.profile }, h.expiresAt / 1000);
    },
  });
  new Gauge({
    name: 'gtb_circuit_open', help: '1 while the profile\'s circuit breaker is open (Genesys login failing), else 0', labelNames: ['profile'], registers,
    collect() {
      for (const h of source.held()) this.set({ profile: h.profile }, h.circuit === 'open' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'gtb_redis_up', help: '1 while this replica\'s Redis command connection is ready', registers,
    collect() { this.set(source.redisUp() ? 1 : 0); },
  });
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
    lockTimeout: (profile: string) => metrics.lockTimeouts.inc({ profile }),
    throttled: (profile: string) => metrics.throttles.inc({ profile }),
  };
}
