/**
 * Stream rate (issue 5): the highest event rate one streamer forwards with zero loss on this
 * machine. The sandbox generates sequence-numbered events in steps of rising rate (no forced
 * rollovers); the streamer runs in its own process (src/main.ts, as production does). Each step
 * is counted exactly, by sequence number, in the Redis Stream; stepping stops at the first loss.
 * Latency (receipt → Redis Stream) is per entry: the stream entry id's time (Redis' clock when
 * XADD ran) minus the entry's `received_at` (the streamer's clock at the socket frame), 1 ms
 * resolution; the streamer's own `gtb_streamer_event_lag_seconds` histogram (receipt → Redis ack,
 * coarse buckets) is read from /metrics as a cross-check.
 * Also exports the helpers the stream-rotation scenario shares (streamer process, output reader).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '@gtb/redis';
import { waitUntilReady } from '../../support/system.js';
import { startStreamSystem, STREAM, TEST_TIMING, TOPIC, type StreamSystem } from '../../../services/streamer/test/support/stream-system.js';
import { stopProcess } from '../lib/child.js';
import { freePort } from '../lib/free-port.js';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from '../lib/latency.js';
import { processCpuMs } from '../lib/process-cpu.js';
import type { BenchContext } from './context.js';

const STREAMER_MAIN = fileURLToPath(new URL('../../../services/streamer/src/main.ts', import.meta.url));
const READ_CHUNK = 5_000;
const KEPT_UP_MS = 1_000;

export interface StreamRateSettings {
  /** Generation rates to step through (events/s), in order. */
  rates: number[];
  /** Length of each step's generation. */
  stepMs: number;
  /** A step's count is final once the output has not grown for this long. */
  settleMs: number;
  /** The whole scenario's budget; a step that would not fit is not started. */
  budgetMs: number;
}

export interface StreamRateStep {
  targetRate: number;
  sent: number;
  /** Events generated a second, as the sandbox managed it. */
  achievedRate: number;
  written: number;
  lost: number;
  duplicated: number;
  /** From the end of generation to the last read that found new entries (100 ms polls). */
  drainMs: number;
  /** Receipt → XADD, per entry (entry id time − `received_at`), ms. */
  latency: LatencySummary;
  /** The streamer's lag histogram for this step: the bucket bound holding p50 / p99 (ms). */
  metricLag: { count: number; p50AtMostMs: number | null; p99AtMostMs: number | null };
  gapsReported: number;
  /**
   * The streamer process's CPU time (user + system, all threads) from the step's start to its last
   * read, per event written, µs: 1e6 / this is the rate one core could carry, which the generator
   * (in the runner, on a shared machine) may not reach.
   */
  streamerCpuUsPerEvent?: number;
}

export interface StreamRateResult {
  settings: StreamRateSettings;
  steps: StreamRateStep[];
  /** Highest step with zero loss and zero duplicates (null if none). */
  highestZeroLossRate: number | null;
  /**
   * Highest step that also kept up: zero loss and the output complete within `KEPT_UP_MS` of the
   * last event generated. Above it the streamer still loses nothing while its buffer holds, but lags.
   */
  highestKeptUpRate: number | null;
  stoppedBecause: 'loss' | 'all steps done' | 'budget' | 'streamer not ready';
  latencySource: string;
}

/** A streamer as its own process (src/main.ts with a 0600 config file), registered with the runner. */
export interface StreamerChild {
  url: string;
  pid: number;
  metrics(): Promise<string>;
  /** The channel the streamer currently receives on (/readyz names it by fingerprint; the sandbox knows its id). */
  channelId(): Promise<string | undefined>;
  stop(): Promise<void>;
}

/** Starts `services/streamer/src/main.ts` against `sys` with `overrides` on its config; waits for /readyz. */
export async function startStreamerChild(ctx: BenchContext, sys: StreamSystem, name: string, overrides: Record<string, unknown> = {}): Promise<StreamerChild> {
  const port = await freePort();
  const file = join(ctx.dir, `${name}.json`);
  const config = sys.streamerConfig({ instanceId: name, logLevel: 'warn', http: { host: '127.0.0.1', port }, ...overrides });
  await writeFile(file, JSON.stringify(config), { mode: 0o600 });
  // BENCH_CPU_PROF_DIR=<dir>: the streamer writes a V8 CPU profile there when it exits, as the brokers do.
  const profDir = process.env['BENCH_CPU_PROF_DIR'];
  // No --cpu-prof-name: tsx's loader thread writes a profile too, which would overwrite the main thread's.
  const execArgv = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const proc = ctx.registry.spawnTs(name, STREAMER_MAIN, { GTB_STREAMER_CONFIG_FILE: file }, execArgv, 'server');
  const url = `http://127.0.0.1:${port}`;
  const died = new Promise<never>((_resolve, reject) => {
    proc.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before it was ready`)));
  });
  died.catch(() => undefined);
  await Promise.race([waitUntilReady(url, 30_000), died]);
  return {
    url,
    pid: proc.pid ?? -1,
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
    async channelId() {
      const body = await (await fetch(`${url}/readyz`)).json() as { streams?: { channelFingerprint?: string }[] };
      return sys.channelIdOf(body.streams?.[0]?.channelFingerprint);
    },
    stop: () => stopProcess(proc),
  };
}

/** One output entry as the benchmark needs it. */
export interface OutputEntry {
  sequence: number;
  /** Entry id time (ms) minus `received_at` (ms). */
  lagMs: number;
}

/**
 * Reads the output stream after `fromId` (exclusive) in bounded chunks; returns the last id read.
 * Entries without a numeric sequence are skipped.
 */
export async function readOutput(redis: RedisClient, key: string, fromId: string, onEntry: (e: OutputEntry) => void, maxEntries = 2_000_000): Promise<string> {
  let last = fromId;
  for (let read = 0; read < maxEntries;) {
    const chunk = await redis.xrange(key, last === '0-0' ? '-' : `(${last}`, '+', 'COUNT', READ_CHUNK);
    for (const [id, fields] of chunk) {
      let sequence = NaN;
      let receivedAt = NaN;
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if (fields[i] === 'sequence') sequence = Number(fields[i + 1]);
        else if (fields[i] === 'received_at') receivedAt = Date.parse(fields[i + 1]!);
      }
      if (Number.isInteger(sequence)) onEntry({ sequence, lagMs: Number(id.split('-')[0]) - receivedAt });
      last = id;
    }
    read += chunk.length;
    if (chunk.length < READ_CHUNK) break;
  }
  return last;
}

/**
 * Deletes the system's keys in bounded batches before `sys.close()`: its own clean-up passes every
 * key to one DEL call, which overflows the call stack past ~100k dedupe markers.
 */
export async function deleteSystemKeys(sys: StreamSystem): Promise<void> {
  const redis = sys.redis;
  if (!('scanStream' in redis)) return; // the stream system always uses a standalone client
  const stream = redis.scanStream({ match: `${sys.prefix}:*`, count: 1_000 });
  for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.unlink(...keys);
}

/** The output stream key of the system's stream (prefix-aware, as the streamer writes it). */
export function outputKey(sys: StreamSystem): string {
  return `${sys.prefix}:events:{${STREAM}}`;
}

/** Cumulative `gtb_streamer_event_lag_seconds` bucket counts by upper bound (seconds). */
export function lagBuckets(metricsText: string): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const m of metricsText.matchAll(/^gtb_streamer_event_lag_seconds_bucket\{([^}]*)\} (\d+)/gm)) {
    const le = /le="([^"]+)"/.exec(m[1]!)?.[1];
    if (le !== undefined) buckets.set(le === '+Inf' ? Infinity : Number(le), Number(m[2]));
  }
  return buckets;
}

/** The bucket bounds (ms) that hold p50 and p99 of the observations between two readings. */
function bucketQuantiles(before: Map<number, number>, after: Map<number, number>): StreamRateStep['metricLag'] {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const delta = bounds.map((le) => [le, (after.get(le) ?? 0) - (before.get(le) ?? 0)] as const);
  const count = delta.at(-1)?.[1] ?? 0;
  const at = (q: number) => {
    if (count === 0) return null;
    const hit = delta.find(([, c]) => c >= q * count);
    return hit && Number.isFinite(hit[0]) ? hit[0] * 1000 : null;
  };
  return { count, p50AtMostMs: at(0.5), p99AtMostMs: at(0.99) };
}

/** Runs the rate steps against a fresh stream system and one streamer process. */
export async function runStreamRate(ctx: BenchContext, settings: StreamRateSettings): Promise<StreamRateResult> {
  const started = performance.now();
  const sys = await startStreamSystem();
  ctx.prefixes.push(sys.prefix);
  let streamer: StreamerChild | undefined;
  const steps: StreamRateStep[] = [];
  let stoppedBecause: StreamRateResult['stoppedBecause'] = 'all steps done';
  try {
    // A generous watchdog: at high rates events keep the socket busy; a false stall would be a rollover.
    streamer = await startStreamerChild(ctx, sys, 'bench-streamer-rate', { timing: { ...TEST_TIMING, heartbeatTimeoutMs: 5_000, pongTimeoutMs: 2_000 } });
    const key = outputKey(sys);
    // Warm-up (not counted): JIT, connections, the first XADDs.
    const warm = await sys.sandbox.admin.generateEvents({ topic: TOPIC, count: 500, ratePerSecond: 1_000 });
    let lastId = '0-0';
    let warmSeen = 0;
    const warmDeadline = performance.now() + 15_000;
    while (warmSeen < warm.sent && performance.now() < warmDeadline) {
      lastId = await readOutput(sys.redis, key, lastId, () => { warmSeen += 1; });
      if (warmSeen < warm.sent) await sleep(100);
    }
    if (warmSeen < warm.sent) {
      stoppedBecause = 'streamer not ready';
      return { settings, steps, highestZeroLossRate: null, highestKeptUpRate: null, stoppedBecause, latencySource: LATENCY_SOURCE };
    }
    for (const rate of settings.rates) {
      const worstCase = settings.stepMs + settings.settleMs * 4 + 2_000; // generation, the settle's hard cap, reads
      if (performance.now() - started + worstCase > settings.budgetMs) {
        stoppedBecause = 'budget';
        break;
      }
      const step = await runStep(sys, streamer, key, lastId, rate, settings);
      lastId = step.lastId;
      steps.push(step.result);
      ctx.log(`  stream-rate ${rate} ev/s: sent ${step.result.sent}, written ${step.result.written}, lost ${step.result.lost}, p99 ${step.result.latency.p99} ms`);
      if (step.result.lost > 0 || step.result.duplicated > 0) {
        stoppedBecause = 'loss';
        break;
      }
    }
  } finally {
    await streamer?.stop();
    await deleteSystemKeys(sys).catch(() => undefined);
    await sys.close();
  }
  const highest = (list: StreamRateStep[]) => (list.length ? Math.max(...list.map((s) => s.targetRate)) : null);
  const clean = steps.filter((s) => s.lost === 0 && s.duplicated === 0);
  return {
    settings, steps, highestZeroLossRate: highest(clean), highestKeptUpRate: highest(clean.filter((s) => s.drainMs <= KEPT_UP_MS)),
    stoppedBecause, latencySource: LATENCY_SOURCE,
  };
}

const LATENCY_SOURCE = 'per entry: Redis stream entry id time (XADD) minus the entry\'s received_at (streamer receipt), 1 ms resolution; metricLag: gtb_streamer_event_lag_seconds buckets (receipt to Redis ack)';

async function runStep(sys: StreamSystem, streamer: StreamerChild, key: string, fromId: string, rate: number, settings: StreamRateSettings): Promise<{ result: StreamRateStep; lastId: string }> {
  const before = lagBuckets(await streamer.metrics());
  const gapsBefore = (await sys.lifecycle(['stream.gap'])).length;
  const count = Math.max(1, Math.round((rate * settings.stepMs) / 1000));
  const cpuBefore = processCpuMs(streamer.pid);
  const t0 = performance.now();
  const gen = await sys.sandbox.admin.generateEvents({ topic: TOPIC, count, ratePerSecond: rate });
  const generatedAt = performance.now();
  const seen = new Map<number, number>();
  const latency = latencyHistogram();
  let lastId = fromId;
  let lastProgress = performance.now();
  const hardDeadline = generatedAt + settings.settleMs * 4;
  for (;;) {
    const size = seen.size;
    lastId = await readOutput(sys.redis, key, lastId, (e) => {
      if (e.sequence < gen.firstSequence || e.sequence > gen.lastSequence) return;
      seen.set(e.sequence, (seen.get(e.sequence) ?? 0) + 1);
      if (Number.isFinite(e.lagMs)) recordMs(latency, Math.max(0, e.lagMs));
    });
    const now = performance.now();
    if (seen.size > size) lastProgress = now;
    if (seen.size >= gen.sent) break;
    if (now - lastProgress > settings.settleMs || now > hardDeadline) break;
    await sleep(100);
  }
  const cpuAfter = processCpuMs(streamer.pid);
  const after = lagBuckets(await streamer.metrics());
  const duplicated = [...seen.values()].filter((c) => c > 1).length;
  const result: StreamRateStep = {
    targetRate: rate,
    sent: gen.sent,
    achievedRate: Math.round(gen.sent / ((generatedAt - t0) / 1000)),
    written: seen.size,
    lost: gen.sent - seen.size,
    duplicated,
    drainMs: Math.round(Math.max(0, lastProgress - generatedAt)),
    latency: summarize(latency),
    metricLag: bucketQuantiles(before, after),
    gapsReported: (await sys.lifecycle(['stream.gap'])).length - gapsBefore,
    ...(cpuBefore !== undefined && cpuAfter !== undefined && seen.size > 0 ? { streamerCpuUsPerEvent: Math.round(((cpuAfter - cpuBefore) * 1000 / seen.size) * 10) / 10 } : {}),
  };
  return { result, lastId };
}

/** The stream-rate table. */
export function formatStreamRate(r: StreamRateResult): string {
  const w = [9, 7, 8, 7, 5, 4, 6, 6, 6, 6, 9, 9, 4, 11];
  const row = (cells: (string | number)[]) => cells.map((c, i) => (i === 0 ? String(c).padEnd(w[i]!) : String(c).padStart(w[i]!))).join('  ');
  const lines = [`stream rate: one streamer process, ${r.settings.stepMs} ms a step, no forced rollovers (stopped: ${r.stoppedBecause})`];
  lines.push(row(['target/s', 'sent', 'achieved', 'written', 'lost', 'dup', 'p50 ms', 'p99 ms', 'max ms', 'drain', 'hist p50≤', 'hist p99≤', 'gaps', 'CPU µs/ev']));
  // Lags are whole milliseconds (0: the same millisecond); the histogram's bucket bounds add noise below 1 ms.
  const ms = (v: number) => Math.round(v);
  for (const s of r.steps) {
    lines.push(row([s.targetRate, s.sent, s.achievedRate, s.written, s.lost, s.duplicated, ms(s.latency.p50), ms(s.latency.p99), ms(s.latency.max), s.drainMs,
      s.metricLag.p50AtMostMs ?? '-', s.metricLag.p99AtMostMs ?? '-', s.gapsReported, s.streamerCpuUsPerEvent ?? '-']));
  }
  lines.push(`highest zero-loss step: ${r.highestZeroLossRate ?? 'none'} ev/s; highest that also kept up (output complete within ${KEPT_UP_MS} ms of the last event): ${r.highestKeptUpRate ?? 'none'} ev/s`);
  lines.push(`latency: ${r.latencySource}`);
  return lines.join('\n');
}

/** The pass/fail entries of this scenario. */
export function streamRateChecks(r: StreamRateResult): { name: string; target: string; value: number | string; pass: boolean }[] {
  const v = r.highestZeroLossRate ?? 0;
  return [{ name: 'stream rate: highest zero-loss step (ev/s)', target: '>= 1000 (the issue\'s soak rate)', value: v, pass: v >= 1000 }];
}
