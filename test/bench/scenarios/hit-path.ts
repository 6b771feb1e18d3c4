/**
 * Scenario 1, the hit path: the same closed-loop load against a raw node:http server (and one writing
 * the broker's answer headers around the same body), an
 * Express 5 + helmet server returning a constant JSON, and the broker's authenticated
 * `GET /v1/tokens/sales` on a warm cache (with `warn` logging, with `info` logging of every
 * request, and with its in-memory fast path switched off, i.e. every request through the whole
 * Express stack). Each target is its own process; the load generator (autocannon) is another. Rounds interleave the
 * targets (in a rotating order) so that a noisy moment hurts all of them, and figures are medians.
 */
import { fileURLToPath } from 'node:url';
import type { ClosedLoopResult } from '../lib/closed-loop.js';
import { startBrokerProcess } from '../lib/broker-process.js';
import { processRssMiB } from '../lib/process-cpu.js';
import { rankProfiles, type ProfileSummary } from '../lib/cpu-profile.js';
import type { WorkerMessage } from '../lib/child.js';
import { benchBrokerConfig, freshPrefix, median, startWorker, type BenchContext } from './context.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export interface HitPathSettings {
  connections: number;
  durationMs: number;
  warmupMs: number;
  rounds: number;
  maxRequests: number;
}

export interface TargetSummary {
  rps: number;
  p50: number;
  p99: number;
  /** Non-200 answers over all rounds (should be 0). */
  non200: number;
  /** The server process's CPU time (user + system) per answer, in µs: what the rate would be on a core of its own is 1e6 / this. */
  cpuUsPerRequest: number;
}

export interface HitPathResult {
  settings: HitPathSettings;
  targets: Record<string, TargetSummary>;
  rounds: { round: number; target: string; result: ClosedLoopResult }[];
  /** Each broker's resident memory (VmRSS) after all rounds. */
  rssAfterLoadMiB: Record<string, number>;
  /** With BENCH_CPU_PROF_DIR: each broker's CPU profile, ranked (lib/cpu-profile.ts). */
  cpuProfiles?: Record<string, ProfileSummary>;
  ratios: {
    brokerVsExpressHelmet: number;
    brokerVsRaw: number;
    brokerInfoLogVsExpressHelmet: number;
    brokerInfoLogVsBroker: number;
    /** The broker with every request through the whole Express stack (`http.fastPath: false`). */
    brokerFullPathVsExpressHelmet: number;
    brokerVsBrokerFullPath: number;
    /** The per-round broker/express+helmet ratios the median was taken of. */
    brokerVsExpressHelmetPerRound: number[];
    /** The broker at `info` (the default) against bare node:http: the hit-path target (≥ 0.5). */
    brokerInfoLogVsRaw: number;
    brokerInfoLogVsRawPerRound: number[];
  };
  /**
   * The same ratios from each server's CPU time per answer (b's µs / a's µs, per round, median): the
   * rate each would reach on a core of its own, which another process on the machine barely moves.
   */
  cpuRatios: {
    brokerInfoLogVsRaw: number;
    brokerInfoLogVsRawPerRound: number[];
    brokerVsRaw: number;
    /** Bare node:http writing the broker's headers (raw-http-headers) against bare node:http with two. */
    rawHeadersVsRaw: number;
    /** The broker at `info` against bare node:http writing the same headers: the broker's own work, as a ratio. */
    brokerInfoLogVsRawHeaders: number;
    brokerFullPathVsExpressHelmet: number;
    brokerFullPathVsExpressHelmetPerRound: number[];
    brokerVsExpressHelmet: number;
    brokerInfoLogVsBroker: number;
  };
}

/** Runs scenario 1 and stops everything it started. */
export async function runHitPath(ctx: BenchContext, settings: HitPathSettings): Promise<HitPathResult> {
  const client = ctx.sandbox.admin.createClient({ name: 'bench hit path', tokenLifetimeSeconds: 3600 });
  const prefix = freshPrefix(ctx, 'hit');
  const stops: (() => Promise<void>)[] = [];
  try {
    const [raw, rawHeaders, express, broker, brokerInfo, brokerFull, load] = await Promise.all([
      startServer(ctx, 'raw-http', here('../servers/raw-http-server.ts')),
      startServer(ctx, 'raw-http-headers', here('../servers/raw-http-headers-server.ts')),
      startServer(ctx, 'express-helmet', here('../servers/express-helmet-server.ts')),
      startBrokerProcess(ctx.registry, { name: 'bench-hit-broker-warn', config: benchBrokerConfig(ctx, { prefix, client, logLevel: 'warn' }), dir: ctx.dir }),
      startBrokerProcess(ctx.registry, { name: 'bench-hit-broker-info', config: benchBrokerConfig(ctx, { prefix, client, logLevel: 'info' }), dir: ctx.dir }),
      startBrokerProcess(ctx.registry, { name: 'bench-hit-broker-full', config: benchBrokerConfig(ctx, { prefix, client, logLevel: 'warn', fastPath: false }), dir: ctx.dir }),
      startWorker(ctx.registry.forkWorker('load-hit', here('../workers/load-worker.ts'), {}, 'load')),
    ]);
    stops.push(raw.stop, rawHeaders.stop, express.stop, broker.stop, brokerInfo.stop, brokerFull.stop, load.stop);
    const auth = { authorization: `Bearer ${ctx.appToken}` };
    // Every target gets the same request, IdP token included: parsing a ~1 KB Authorization header is
    // part of the request's cost whoever serves it, and only the broker's handling of it should differ.
    const targets = [
      { name: 'raw-http', url: `${raw.url}/v1/tokens/sales`, headers: auth, pid: raw.pid },
      { name: 'raw-http-headers', url: `${rawHeaders.url}/v1/tokens/sales`, headers: auth, pid: rawHeaders.pid },
      { name: 'express-helmet', url: `${express.url}/v1/tokens/sales`, headers: auth, pid: express.pid },
      { name: 'broker', url: `${broker.url}/v1/tokens/sales`, headers: auth, pid: broker.pid },
      { name: 'broker-info-log', url: `${brokerInfo.url}/v1/tokens/sales`, headers: auth, pid: brokerInfo.pid },
      { name: 'broker-full-path', url: `${brokerFull.url}/v1/tokens/sales`, headers: auth, pid: brokerFull.pid },
    ];
    // Warm the cache: the first call mints (once, both replicas share the prefix) and verifies the IdP token.
    for (const t of targets) {
      const res = await fetch(t.url, { headers: t.headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`hit path: ${t.name} answered ${res.status} to the priming request`);
    }
    ctx.log(`hit path: ${settings.rounds} rounds × ${targets.length} targets × ${settings.durationMs} ms, ${settings.connections} connections`);
    const rounds: HitPathResult['rounds'] = [];
    for (let round = 0; round < settings.rounds; round++) {
      const order = targets.map((_t, i) => targets[(i + round) % targets.length]!);
      for (const t of order) {
        // The first round warms JIT and caches; later ones only need their connections reopened.
        const warmupMs = round === 0 ? settings.warmupMs : Math.min(settings.warmupMs, 300);
        load.send({ type: 'closed-loop', options: { urls: [t.url], headers: t.headers, connections: settings.connections, durationMs: settings.durationMs, warmupMs, maxRequests: settings.maxRequests, serverPid: t.pid } });
        const { result } = await load.next<WorkerMessage & { result: ClosedLoopResult }>('result', settings.durationMs + warmupMs + 30_000);
        rounds.push({ round, target: t.name, result });
        ctx.log(`  round ${round + 1} ${t.name.padEnd(16)} ${String(result.rps).padStart(6)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms  server CPU ${result.serverCpuUsPerRequest ?? '?'} µs/req`);
      }
    }
    const rssAfterLoadMiB = Object.fromEntries(targets.filter((t) => t.name.startsWith('broker')).map((t) => [t.name, processRssMiB(t.pid) ?? 0]));
    // The brokers write their CPU profiles when they exit.
    await Promise.allSettled(stops.map((s) => s()));
    const cpuProfiles = await rankProfiles((line) => ctx.log(line), ['bench-hit-broker-warn', 'bench-hit-broker-info', 'bench-hit-broker-full']);
    return { settings, targets: summarize(rounds, targets.map((t) => t.name)), rounds, rssAfterLoadMiB, ...(cpuProfiles ? { cpuProfiles } : {}), ratios: ratiosOf(rounds, settings.rounds), cpuRatios: cpuRatiosOf(rounds, settings.rounds) };
  } finally {
    await Promise.allSettled(stops.map((s) => s()));
  }
}

function summarize(rounds: HitPathResult['rounds'], names: string[]): Record<string, TargetSummary> {
  const out: Record<string, TargetSummary> = {};
  for (const name of names) {
    const mine = rounds.filter((r) => r.target === name).map((r) => r.result);
    out[name] = {
      rps: Math.round(median(mine.map((r) => r.rps))),
      p50: median(mine.map((r) => r.latency.p50)),
      p99: median(mine.map((r) => r.latency.p99)),
      non200: mine.reduce((n, r) => n + Object.entries(r.statuses).filter(([s]) => s !== '200').reduce((m, [, c]) => m + c, 0), 0),
      cpuUsPerRequest: median(mine.map((r) => r.serverCpuUsPerRequest ?? 0)),
    };
  }
  return out;
}

function ratiosOf(rounds: HitPathResult['rounds'], count: number): HitPathResult['ratios'] {
  const rps = (round: number, target: string) => rounds.find((r) => r.round === round && r.target === target)?.result.rps ?? 0;
  const per = (a: string, b: string) => Array.from({ length: count }, (_x, i) => (rps(i, b) > 0 ? rps(i, a) / rps(i, b) : 0));
  const r2 = (n: number) => Math.round(n * 100) / 100;
  const perRound = per('broker', 'express-helmet');
  return {
    brokerVsExpressHelmet: r2(median(perRound)),
    brokerVsRaw: r2(median(per('broker', 'raw-http'))),
    brokerInfoLogVsExpressHelmet: r2(median(per('broker-info-log', 'express-helmet'))),
    brokerInfoLogVsBroker: r2(median(per('broker-info-log', 'broker'))),
    brokerFullPathVsExpressHelmet: r2(median(per('broker-full-path', 'express-helmet'))),
    brokerVsBrokerFullPath: r2(median(per('broker', 'broker-full-path'))),
    brokerVsExpressHelmetPerRound: perRound.map(r2),
    brokerInfoLogVsRaw: r2(median(per('broker-info-log', 'raw-http'))),
    brokerInfoLogVsRawPerRound: per('broker-info-log', 'raw-http').map(r2),
  };
}

function cpuRatiosOf(rounds: HitPathResult['rounds'], count: number): HitPathResult['cpuRatios'] {
  const us = (round: number, target: string) => rounds.find((r) => r.round === round && r.target === target)?.result.serverCpuUsPerRequest ?? 0;
  // a's rate on a core of its own over b's: b's CPU per answer over a's.
  const per = (a: string, b: string) => Array.from({ length: count }, (_x, i) => (us(i, a) > 0 ? us(i, b) / us(i, a) : 0));
  const r2 = (n: number) => Math.round(n * 100) / 100;
  return {
    brokerInfoLogVsRaw: r2(median(per('broker-info-log', 'raw-http'))),
    brokerInfoLogVsRawPerRound: per('broker-info-log', 'raw-http').map(r2),
    brokerVsRaw: r2(median(per('broker', 'raw-http'))),
    rawHeadersVsRaw: r2(median(per('raw-http-headers', 'raw-http'))),
    brokerInfoLogVsRawHeaders: r2(median(per('broker-info-log', 'raw-http-headers'))),
    brokerFullPathVsExpressHelmet: r2(median(per('broker-full-path', 'express-helmet'))),
    brokerFullPathVsExpressHelmetPerRound: per('broker-full-path', 'express-helmet').map(r2),
    brokerVsExpressHelmet: r2(median(per('broker', 'express-helmet'))),
    brokerInfoLogVsBroker: r2(median(per('broker-info-log', 'broker'))),
  };
}

/** Forks a baseline server and waits for the port it listens on. */
async function startServer(ctx: BenchContext, name: string, file: string): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const worker = ctx.registry.forkWorker(name, file, {}, 'server');
  const { port } = await worker.next<WorkerMessage & { port: number }>('listening', 30_000);
  return { url: `http://127.0.0.1:${port}`, pid: worker.pid, stop: () => worker.stop() };
}
