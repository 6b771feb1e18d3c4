/**
 * Scale-out (issue 6): how upstream mints, Redis commands per request, broker memory and latency
 * grow with the number of broker processes (1, 2, 4, 8 on one profile) and of profiles (1, 10, 50
 * on 2 brokers). Each case runs on a PRIVATE redis-server, so that INFO commandstats counts only
 * this case's brokers: an idle window, a cold burst (every broker asked for every profile at
 * once), then a fixed steady load (the same request count whatever the case), made by autocannon
 * in the load worker process.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { createRedis, waitReady, type RedisClient } from '@gtb/redis';
import { brokerConfigFor } from '../../support/system.js';
import { startPrivateRedis } from '../../support/redis-server.js';
import { fileURLToPath } from 'node:url';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from '../lib/latency.js';
import { getOnce } from '../lib/storm.js';
import type { ClosedLoopResult } from '../lib/closed-loop.js';
import { startBrokerProcess, type BrokerProcess } from '../lib/broker-process.js';
import type { WorkerHandle, WorkerMessage } from '../lib/child.js';
import { startWorker, type BenchContext } from './context.js';

const LOAD_WORKER = fileURLToPath(new URL('../workers/load-worker.ts', import.meta.url));
/** Hard limit of one steady phase (a fixed request count; normally a few seconds). */
const STEADY_LIMIT_MS = 120_000;

export interface ScaleOutSettings {
  /** Broker process counts of the first series (one profile). */
  brokerCounts: number[];
  /** Profile counts of the second series (on `brokersForProfiles` brokers). */
  profileCounts: number[];
  brokersForProfiles: number;
  /** Requests of the steady phase, spread evenly over every broker × profile pair. */
  steadyRequests: number;
  /** Requests in flight during the steady phase, whatever the case. */
  connections: number;
  /** Simultaneous first callers per broker × profile in the cold burst. */
  coldCallersPerTarget: number;
  /** Idle window before the burst, to measure the brokers' background Redis traffic. */
  idleWindowMs: number;
  timeoutMs: number;
}

/** Redis work during one phase (INFO commandstats deltas; `info` itself is left out). */
export interface RedisPhase {
  requests: number;
  /** Every command Redis executed, those run inside Lua scripts included. */
  calls: number;
  perRequest: number;
  /** Per command name, sorted by count. */
  byCommand: Record<string, number>;
}

export interface ScaleCase {
  brokers: number;
  profiles: number;
  /** Token requests the sandbox answered for this case's clients (target: exactly `profiles`). */
  upstreamMints: number;
  /** Mints during the steady phase (target 0: every token is cached by then). */
  steadyMints: number;
  /** Background commands a second of all brokers together, measured while idle. */
  idleCallsPerSecond: number;
  /** The idle window's commands by name (what the background traffic is). */
  idleByCommand: Record<string, number>;
  cold: RedisPhase & { latency: LatencySummary; statuses: Record<string, number> };
  steady: RedisPhase & {
    /** `perRequest` minus the idle background for the phase's duration. */
    perRequestNetOfIdle: number;
    durationMs: number;
    rps: number;
    latency: LatencySummary;
    statuses: Record<string, number>;
  };
  /** Resident memory of each broker process (VmRSS, MiB): ready and idle, then after the load. */
  rssMb: { idle: number[]; afterLoad: number[] };
}

export interface ScaleOutResult {
  settings: ScaleOutSettings;
  redisVersion: string;
  cases: ScaleCase[];
}

/** Runs every case in turn and stops everything it started. */
export async function runScaleOut(ctx: BenchContext, settings: ScaleOutSettings): Promise<ScaleOutResult> {
  const plan = [
    ...settings.brokerCounts.map((brokers) => ({ brokers, profiles: 1 })),
    ...settings.profileCounts.map((profiles) => ({ brokers: settings.brokersForProfiles, profiles })),
  ].filter((c, i, all) => all.findIndex((o) => o.brokers === c.brokers && o.profiles === c.profiles) === i);
  const redisServer = await startPrivateRedis();
  const stats = createRedis({ mode: 'standalone', url: redisServer.url });
  stats.on('error', () => undefined);
  let load: WorkerHandle | undefined;
  try {
    load = await startWorker(ctx.registry.forkWorker('load-scale', LOAD_WORKER, {}, 'load'));
    await waitReady(stats, 5000);
    const redisVersion = /redis_version:(\S+)/.exec(await stats.info('server'))?.[1] ?? 'unknown';
    const cases: ScaleCase[] = [];
    for (const c of plan) {
      ctx.log(`scale-out: ${c.brokers} broker(s) × ${c.profiles} profile(s)`);
      cases.push(await runCase(ctx, settings, c, redisServer.url, stats, load));
    }
    return { settings, redisVersion, cases };
  } finally {
    await load?.stop();
    stats.disconnect();
    await redisServer.stop();
  }
}

async function runCase(ctx: BenchContext, s: ScaleOutSettings, c: { brokers: number; profiles: number }, redisUrl: string, stats: RedisClient, load: WorkerHandle): Promise<ScaleCase> {
  const profiles = Array.from({ length: c.profiles }, (_x, i) => ({
    name: `scale-${String(i + 1).padStart(2, '0')}`,
    ...ctx.sandbox.admin.createClient({ name: `bench scale ${c.brokers}x${c.profiles} #${i + 1}`, tokenLifetimeSeconds: 3600 }),
  }));
  const base = brokerConfigFor({ prefix: `bench-scale-${randomUUID().slice(0, 8)}`, sandboxUrl: ctx.sandbox.url, issuers: [ctx.idp.issuer], audience: ctx.idp.audience, clients: profiles, minTtlSeconds: 60 });
  // Production settings except the per-caller limit: one caller makes all the load here. The
  // limiter still runs (and costs its Redis commands) on every request. `leases` is dropped so
  // that the lease sweep runs at its production interval, not the tests' 200 ms.
  const { leases: _leases, ...rest } = base;
  const config = { ...rest, redis: { mode: 'standalone', url: redisUrl }, logLevel: 'warn', rateLimit: { perMinute: 1_000_000 } };
  const minted = () => profiles.reduce((n, p) => n + (ctx.sandbox.admin.counters().tokensMinted[p.clientId] ?? 0), 0);
  const mintedBefore = minted();
  const brokers: BrokerProcess[] = [];
  try {
    const started = await Promise.allSettled(Array.from({ length: c.brokers }, (_x, i) =>
      startBrokerProcess(ctx.registry, { name: `bench-scale-${c.brokers}x${c.profiles}-${i + 1}`, config, dir: ctx.dir, readyTimeoutMs: 60_000 })));
    for (const r of started) if (r.status === 'fulfilled') brokers.push(r.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const paths = profiles.map((p) => `/v1/tokens/${p.name}`);
    const targets = paths.flatMap((path) => brokers.map((b) => `${b.url}${path}`));
    const headers = { authorization: `Bearer ${ctx.appToken}` };

    let mark = await commandCalls(stats);
    const idleStarted = performance.now();
    await new Promise((r) => setTimeout(r, s.idleWindowMs));
    let now = await commandCalls(stats);
    const idle = diff(now, mark);
    const idleCallsPerSecond = round2((sum(idle) * 1000) / (performance.now() - idleStarted));
    const rssIdle = await Promise.all(brokers.map((b) => rssMb(b.pid)));

    mark = await commandCalls(stats);
    const cold = await burst(targets, headers, s.coldCallersPerTarget, s.timeoutMs);
    now = await commandCalls(stats);
    const coldRedis = phase(diff(now, mark), cold.latency.count);
    const mintedAfterCold = minted();

    mark = now;
    // Connection i goes to broker i mod B and cycles through every profile's path (the connection
    // count is a multiple of every broker count), so the load spreads over every broker × profile pair.
    load.send({ type: 'closed-loop', options: { urls: brokers.map((b) => b.url), paths, headers, connections: s.connections, amount: s.steadyRequests, durationMs: STEADY_LIMIT_MS, timeoutMs: s.timeoutMs } });
    const { result: steady } = await load.next<WorkerMessage & { result: ClosedLoopResult }>('result', STEADY_LIMIT_MS + 30_000);
    now = await commandCalls(stats);
    const steadyRedis = phase(diff(now, mark), steady.requests);
    const idleShare = (idleCallsPerSecond * steady.durationMs) / 1000;
    return {
      brokers: c.brokers,
      profiles: c.profiles,
      upstreamMints: minted() - mintedBefore,
      steadyMints: minted() - mintedAfterCold,
      idleCallsPerSecond,
      idleByCommand: Object.fromEntries([...idle].sort((a, b) => b[1] - a[1])),
      cold: { ...coldRedis, latency: cold.latency, statuses: cold.statuses },
      steady: {
        ...steadyRedis,
        perRequestNetOfIdle: round2(Math.max(0, steadyRedis.calls - idleShare) / Math.max(1, steady.requests)),
        durationMs: steady.durationMs, rps: Math.round((steady.requests * 1000) / steady.durationMs),
        latency: steady.latency, statuses: steady.statuses,
      },
      rssMb: { idle: rssIdle, afterLoad: await Promise.all(brokers.map((b) => rssMb(b.pid))) },
    };
  } finally {
    await Promise.allSettled(brokers.map((b) => b.stop()));
  }
}

/** Every target gets `perTarget` callers at the same instant (new brokers: new connections, a cold start). */
async function burst(targets: string[], headers: Record<string, string>, perTarget: number, timeoutMs: number) {
  const histogram = latencyHistogram();
  const statuses: Record<string, number> = {};
  await Promise.all(targets.flatMap((url) => Array.from({ length: perTarget }, async () => {
    const t0 = performance.now();
    const { status } = await getOnce(url, headers, timeoutMs);
    recordMs(histogram, performance.now() - t0);
    statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
  })));
  return { latency: summarize(histogram), statuses };
}

/** Calls per command so far (INFO commandstats), without `info`, which is this runner's own. */
async function commandCalls(redis: RedisClient): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm)) {
    if (m[1] !== 'info') out.set(m[1]!, Number(m[2]));
  }
  return out;
}

function diff(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, n] of after) if (n - (before.get(name) ?? 0) > 0) out.set(name, n - (before.get(name) ?? 0));
  return out;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const round2 = (n: number) => Math.round(n * 100) / 100;

function phase(delta: Map<string, number>, requests: number): RedisPhase {
  const calls = sum(delta);
  return {
    requests, calls, perRequest: round2(calls / Math.max(1, requests)),
    byCommand: Object.fromEntries([...delta].sort((a, b) => b[1] - a[1])),
  };
}

/** VmRSS of a process in MiB (Linux /proc); -1 where it cannot be read. */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kb ? Math.round(Number(kb) / 102.4) / 10 : -1;
}

/** The scenario's targets: exactly one mint per profile, none in the steady phase, every answer 200. */
export function scaleOutChecks(r: ScaleOutResult): { name: string; target: string; value: number | string; pass: boolean }[] {
  return r.cases.flatMap((c) => {
    const label = `scale-out ${c.brokers} brokers × ${c.profiles} profiles`;
    const non200 = [c.cold.statuses, c.steady.statuses].reduce((n, st) => n + Object.entries(st).filter(([k]) => k !== '200').reduce((m, [, v]) => m + v, 0), 0);
    return [
      { name: `${label}: upstream mints`, target: String(c.profiles), value: c.upstreamMints, pass: c.upstreamMints === c.profiles },
      { name: `${label}: non-200 answers`, target: '0', value: non200, pass: non200 === 0 },
    ];
  });
}

/** The printed table of the scenario. */
export function formatScaleOut(r: ScaleOutResult): string {
  const s = r.settings;
  const w = [16, 6, 10, 10, 10, 10, 9, 9, 9, 9, 16];
  const row = (cells: (string | number)[]) => cells.map((c, i) => (i === 0 ? String(c).padEnd(w[i]!) : String(c).padStart(w[i]!))).join('  ');
  const lines = [
    `scale-out (private redis-server ${r.redisVersion}; cold burst ${s.coldCallersPerTarget} callers per broker × profile; ` +
      `steady ${s.steadyRequests} requests, ${s.connections} in flight, spread over brokers × profiles)`,
    row(['brokers×profiles', 'mints', 'idle cmd/s', 'cold cmd/r', 'stdy cmd/r', 'net cmd/r', 'cold p99', 'p50 ms', 'p99 ms', 'req/s', 'RSS MiB/broker']),
  ];
  for (const c of r.cases) {
    const rss = c.rssMb.afterLoad;
    const rssText = rss.length > 1 ? `${Math.min(...rss)}-${Math.max(...rss)}` : String(rss[0] ?? '-');
    lines.push(row([`${c.brokers}×${c.profiles}`, c.upstreamMints, c.idleCallsPerSecond, c.cold.perRequest, c.steady.perRequest,
      c.steady.perRequestNetOfIdle, c.cold.latency.p99.toFixed(1), c.steady.latency.p50.toFixed(2), c.steady.latency.p99.toFixed(2), c.steady.rps, rssText]));
  }
  const top = (m: Record<string, number>, n: number) => Object.entries(m).slice(0, 6).map(([k, v]) => `${k} ${round2(v / Math.max(1, n))}`).join(', ');
  for (const c of r.cases) lines.push(`  ${c.brokers}×${c.profiles} steady per request: ${top(c.steady.byCommand, c.steady.requests)}; cold: ${top(c.cold.byCommand, c.cold.requests)}`);
  return lines.join('\n');
}
