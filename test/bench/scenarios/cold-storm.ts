/**
 * Scenario 2, the cold storm: `replicas` broker processes on one Redis with a fresh key prefix (a
 * cold cache), each hit by `callersPerReplica` callers at the same instant, all wanting the same
 * profile's token. Counts upstream mints at the sandbox (the design's goal: exactly 1) and the
 * callers' latencies. One load worker process per replica holds that replica's callers.
 */
import { fileURLToPath } from 'node:url';
import { mergeLatencies, summarize, type LatencySummary } from '../lib/latency.js';
import type { StormResult } from '../lib/storm.js';
import { sampleRssPeaks, startBrokerProcess } from '../lib/broker-process.js';
import type { WorkerHandle, WorkerMessage } from '../lib/child.js';
import { processRssMiB } from '../lib/process-cpu.js';
import { benchBrokerConfig, freshPrefix, startWorker, type BenchContext } from './context.js';

const LOAD_WORKER = fileURLToPath(new URL('../workers/load-worker.ts', import.meta.url));
const RAW_SERVER = fileURLToPath(new URL('../servers/raw-http-server.ts', import.meta.url));

export interface StormSettings {
  replicas: number;
  callersPerReplica: number;
  /** Per-request timeout of a caller. */
  timeoutMs: number;
}

export interface ColdStormResult {
  settings: StormSettings;
  /** Successful `/oauth/token` answers for the profile's client during the storm (target 1). */
  upstreamMints: number;
  /** Token requests the sandbox refused with its rate-limit answer. */
  upstreamThrottled: number;
  callers: number;
  statuses: Record<string, number>;
  latency: LatencySummary;
  /** Per replica: callers answered, wall time and p99. */
  perReplica: { replica: string; wallMs: number; p99: number; statuses: Record<string, number> }[];
  /** Each broker's resident memory (VmRSS) after the storm, MiB. */
  rssAfterStormMiB: Record<string, number>;
  /** Each broker's largest VmRSS sampled (every 250 ms) from the callers' warm-up to the end of the storm, MiB. */
  rssPeakMiB: Record<string, number>;
  /**
   * The same callers, the same way, against as many bare node:http servers answering a constant: the
   * load generator's own floor, to read the brokers' p99 against.
   */
  constantServer?: { latency: LatencySummary; statuses: Record<string, number> };
  firstError?: string;
}

/** Runs scenario 2 and stops everything it started. */
export async function runColdStorm(ctx: BenchContext, settings: StormSettings): Promise<ColdStormResult> {
  const client = ctx.sandbox.admin.createClient({ name: 'bench cold storm', tokenLifetimeSeconds: 3600 });
  const prefix = freshPrefix(ctx, 'storm');
  const config = benchBrokerConfig(ctx, { prefix, client, logLevel: 'warn' });
  const stops: (() => Promise<void>)[] = [];
  try {
    const names = Array.from({ length: settings.replicas }, (_x, i) => `bench-storm-broker-${i + 1}`);
    const [brokers, workers] = await Promise.all([
      Promise.all(names.map((name) => startBrokerProcess(ctx.registry, { name, config, dir: ctx.dir }))),
      Promise.all(names.map((name) => startWorker(ctx.registry.forkWorker(`load-${name}`, LOAD_WORKER, {}, 'load')))),
    ]);
    stops.push(...brokers.map((b) => b.stop), ...workers.map((w) => w.stop));
    // Ready means /readyz answered; nothing has asked for a token yet, so the cache is cold.
    const sampler = sampleRssPeaks(brokers.map((b) => b.pid));
    workers.forEach((w, i) => w.send({
      type: 'storm-prepare',
      options: {
        url: `${brokers[i]!.url}/v1/tokens/sales`, warmUrl: `${brokers[i]!.url}/healthz`,
        headers: { authorization: `Bearer ${ctx.appToken}` }, callers: settings.callersPerReplica, timeoutMs: settings.timeoutMs,
      },
    }));
    const ready = await Promise.all(workers.map((w) => w.next<WorkerMessage & { warmed: number }>('storm-ready', 60_000)));
    const warmed = ready.reduce((n, r) => n + r.warmed, 0);
    if (warmed < settings.replicas * settings.callersPerReplica) ctx.log(`cold storm: only ${warmed} connections warmed`);
    const before = counts(ctx, client.clientId);
    ctx.log(`cold storm: ${settings.replicas} brokers × ${settings.callersPerReplica} callers, fire`);
    for (const w of workers) w.send({ type: 'fire' });
    const results = await Promise.all(workers.map((w) => w.next<WorkerMessage & { result: StormResult }>('result', settings.timeoutMs + 30_000)));
    const after = counts(ctx, client.clientId);
    const histogram = mergeLatencies(results.map(({ result }) => result.histogram));
    const statuses: Record<string, number> = {};
    for (const { result } of results) {
      for (const [s, n] of Object.entries(result.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
    }
    const firstError = results.find((r) => r.result.firstError)?.result.firstError;
    const rssAfterStormMiB = Object.fromEntries(brokers.map((b) => [b.name, processRssMiB(b.pid) ?? 0]));
    const peaks = sampler.stop();
    const rssPeakMiB = Object.fromEntries(brokers.map((b, i) => [b.name, peaks[i] ?? 0]));
    await Promise.allSettled(brokers.map((b) => b.stop()));
    const constantServer = await stormAgainstConstant(ctx, workers, settings);
    return {
      rssAfterStormMiB,
      rssPeakMiB,
      constantServer,
      settings,
      upstreamMints: after.minted - before.minted,
      upstreamThrottled: after.rejected - before.rejected,
      callers: histogram.totalCount,
      statuses,
      latency: summarize(histogram),
      perReplica: results.map(({ result }, i) => ({ replica: names[i]!, wallMs: result.wallMs, p99: result.latency.p99, statuses: result.statuses })),
      ...(firstError ? { firstError } : {}),
    };
  } finally {
    await Promise.allSettled(stops.map((s) => s()));
  }
}

/** The storm's callers, in the same load workers, against bare node:http servers (one per worker). */
async function stormAgainstConstant(ctx: BenchContext, workers: WorkerHandle[], settings: StormSettings): Promise<ColdStormResult['constantServer']> {
  const servers = workers.map((_w, i) => ctx.registry.forkWorker(`storm-constant-${i + 1}`, RAW_SERVER, {}, 'server'));
  try {
    const ports = await Promise.all(servers.map((s) => s.next<WorkerMessage & { port: number }>('listening', 30_000)));
    workers.forEach((w, i) => w.send({
      type: 'storm-prepare',
      options: {
        url: `http://127.0.0.1:${ports[i]!.port}/v1/tokens/sales`, warmUrl: `http://127.0.0.1:${ports[i]!.port}/healthz`,
        headers: { authorization: `Bearer ${ctx.appToken}` }, callers: settings.callersPerReplica, timeoutMs: settings.timeoutMs,
      },
    }));
    await Promise.all(workers.map((w) => w.next('storm-ready', 60_000)));
    for (const w of workers) w.send({ type: 'fire' });
    const results = await Promise.all(workers.map((w) => w.next<WorkerMessage & { result: StormResult }>('result', settings.timeoutMs + 30_000)));
    const statuses: Record<string, number> = {};
    for (const { result } of results) for (const [s, n] of Object.entries(result.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
    return { latency: summarize(mergeLatencies(results.map(({ result }) => result.histogram))), statuses };
  } finally {
    await Promise.allSettled(servers.map((s) => s.stop()));
  }
}

/** Mints and rate-limit refusals of one sandbox client so far. */
export function counts(ctx: BenchContext, clientId: string): { minted: number; rejected: number } {
  const c = ctx.sandbox.admin.counters();
  return { minted: c.tokensMinted[clientId] ?? 0, rejected: c.tokenRequestsRejected[clientId] ?? 0 };
}
