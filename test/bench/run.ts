/**
 * `npm run bench`: the broker benchmark of issue 3. Starts the sandbox and the IdP in this process,
 * runs the three scenarios (each server under test and each load generator in its own process),
 * prints a table and writes test/bench/results/bench-<timestamp>.json. See README.md.
 * Environment (all optional): BENCH_ROUNDS, BENCH_DURATION_MS, BENCH_CONNECTIONS, BENCH_CALLERS,
 * BENCH_ONLY=hit,storm,sdk (default; `scale` adds the scale-out measurement of issue 6),
 * BENCH_SCALE_REQUESTS, REDIS_URL. `tracing` adds the cost of tracing on the hit path (issue 12:
 * off, sampler 0, sampler 1). `stream-rate` and `stream-rotation` add the streamer measurements of
 * issue 5 (BENCH_STREAM_RATES=500,1000,… overrides the rate steps). `growth` adds the hit path's CPU
 * and memory at 1-500 profiles and 1-10 trusted IdPs (issue 15).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '@gtb/sandbox';
import { createRedis, waitReady } from '@gtb/redis';
import { startIdp } from '../fixtures/idp/index.js';
import { CLIENTS, REDIS_URL } from '../support/system.js';
import { benchBrokerRuntime } from './lib/broker-process.js';
import { ChildRegistry } from './lib/child.js';
import { machineInfo } from './lib/machine.js';
import { checksOf, formatTable, writeResults, type BenchResults } from './lib/report.js';
import type { BenchContext } from './scenarios/context.js';
import { runHitPath } from './scenarios/hit-path.js';
import { runColdStorm } from './scenarios/cold-storm.js';
import { runSdkStorm } from './scenarios/sdk-storm.js';
import { formatMemory, memoryChecks, runMemory, type MemoryResult } from './scenarios/memory.js';
import { formatScaleOut, runScaleOut, scaleOutChecks, type ScaleOutResult } from './scenarios/scale-out.js';
import { formatStreamRate, runStreamRate, streamRateChecks, streamRateSettingsFromEnv, type StreamRateResult } from './scenarios/stream-rate.js';
import { formatStreamRotation, runStreamRotation, streamRotationChecks, type StreamRotationResult } from './scenarios/stream-rotation.js';
import { formatTracingOverhead, runTracingOverhead, type TracingOverheadResult } from './scenarios/tracing-overhead.js';
import { formatGrowth, growthChecks, runGrowth, type GrowthResult } from './scenarios/growth.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
/** Whole-run budget: past it every child is stopped and the run fails (the issue allows ~4 min). */
const RUN_BUDGET_MS = 6 * 60_000;
/** Added to the budget when the scale-out scenario runs (six cases, up to eight brokers each). */
const SCALE_BUDGET_MS = 5 * 60_000;
/** Added per streamer scenario (each is bounded to 90 s, plus start-up and clean-up). */
const STREAM_BUDGET_MS = 2 * 60_000;
const SANDBOX_TOKEN_LIMIT = 300; // Genesys' default client.credentials.token.rate.per.minute

function intFromEnv(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${name} must be an integer in 1..${max}, got ${raw}`);
  return n;
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const atStart = machineInfo();
  const only = new Set((process.env['BENCH_ONLY'] ?? 'hit,storm,sdk').split(',').map((s) => s.trim()));
  const callers = intFromEnv('BENCH_CALLERS', 500, 5000);
  const hitSettings = {
    connections: intFromEnv('BENCH_CONNECTIONS', 32, 1000),
    durationMs: intFromEnv('BENCH_DURATION_MS', 3000, 60_000),
    warmupMs: 1000,
    rounds: intFromEnv('BENCH_ROUNDS', 5, 10),
    maxRequests: 1_000_000,
  };
  const registry = new ChildRegistry();
  const budgetMs = RUN_BUDGET_MS + (only.has('scale') ? SCALE_BUDGET_MS : 0)
    + (only.has('memory') ? (intFromEnv('BENCH_MEMORY_LOAD_S', 60, 600) + intFromEnv('BENCH_MEMORY_GROWTH_S', 60, 600) + 120) * 1000 : 0)
    + ['stream-rate', 'stream-rotation'].filter((n) => only.has(n)).length * STREAM_BUDGET_MS
    + (only.has('tracing') ? 2 * 60_000 : 0)
    + (only.has('growth') ? 4 * 60_000 : 0);
  const budget = setTimeout(() => {
    console.error(`bench: over its ${budgetMs / 1000} s budget; stopping every child`);
    void registry.stopAll().finally(() => process.exit(1));
  }, budgetMs);
  budget.unref();
  process.once('SIGINT', () => { void registry.stopAll().finally(() => process.exit(130)); });

  const redis = createRedis({ mode: 'standalone', url: REDIS_URL });
  redis.on('error', () => undefined);
  try {
    await waitReady(redis, 5000);
  } catch {
    console.error(`bench: Redis is not reachable at ${REDIS_URL} (start it, e.g. node test/scripts/ensure-redis.mjs)`);
    redis.disconnect();
    return 1;
  }
  const sandbox = await startSandbox({ port: 0, tokenRateLimitPerMinute: SANDBOX_TOKEN_LIMIT });
  const idp = await startIdp({ clients: Object.values(CLIENTS), accessTokenTtl: 3600 });
  const dir = await mkdtemp(join(tmpdir(), 'gtb-bench-'));
  const ctx: BenchContext = {
    registry, sandbox, idp, dir, prefixes: [],
    appToken: await idp.clientCredentialsToken(CLIENTS.app.client_id),
    log: (line) => console.log(line),
  };
  type Extra = { brokerRuntime?: ReturnType<typeof benchBrokerRuntime>; memory?: MemoryResult; scaleOut?: ScaleOutResult; streamRate?: StreamRateResult; streamRotation?: StreamRotationResult; tracingOverhead?: TracingOverheadResult; growth?: GrowthResult };
  const results: Omit<BenchResults, 'checks' | 'durationMs' | 'machine'> & Extra = { startedAt: startedAt.toISOString(), errors: [], brokerRuntime: benchBrokerRuntime() };
  console.log(`brokers run as: node ${results.brokerRuntime!.nodeArgs.join(' ')} ${results.brokerRuntime!.entry} with ${JSON.stringify(results.brokerRuntime!.env)}${results.brokerRuntime!.overridden ? ' (BENCH_BROKER_* override, not the image\'s)' : ' (as infra/docker/broker.Dockerfile)'}`);
  const attempt = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      results.errors.push(`${name}: ${(err as Error).message}`);
      console.error(`bench: ${name} failed: ${(err as Error).message}`);
      await registry.stopAll();
    }
  };
  try {
    if (only.has('hit')) await attempt('hit path', async () => { results.hitPath = await runHitPath(ctx, hitSettings); });
    if (only.has('tracing')) await attempt('tracing overhead', async () => { results.tracingOverhead = await runTracingOverhead(ctx, hitSettings); });
    if (only.has('growth')) {
      await attempt('growth', async () => {
        results.growth = await runGrowth(ctx, { ...hitSettings, profileCounts: [1, 10, 100, 500], idpCounts: [1, 3, 10], settleMs: 11_000, idleWindowMs: 4000, primeConcurrency: 16, mintHistory: 250 });
      });
    }
    if (only.has('storm')) await attempt('cold storm', async () => { results.coldStorm = await runColdStorm(ctx, { replicas: 4, callersPerReplica: callers, timeoutMs: 30_000 }); });
    if (only.has('memory')) {
      await attempt('memory', async () => {
        results.memory = await runMemory(ctx, {
          loadMs: intFromEnv('BENCH_MEMORY_LOAD_S', 60, 600) * 1000, growthMs: intFromEnv('BENCH_MEMORY_GROWTH_S', 60, 600) * 1000, connections: hitSettings.connections,
        });
      });
    }
    if (only.has('sdk')) await attempt('sdk storm', async () => { results.sdkStorm = await runSdkStorm(ctx, { processes: 4, instancesPerProcess: callers }, SANDBOX_TOKEN_LIMIT); });
    if (only.has('scale')) {
      await attempt('scale-out', async () => {
        results.scaleOut = await runScaleOut(ctx, {
          brokerCounts: [1, 2, 4, 8], profileCounts: [1, 10, 50], brokersForProfiles: 2,
          steadyRequests: intFromEnv('BENCH_SCALE_REQUESTS', 2000, 100_000), connections: 16,
          coldCallersPerTarget: 5, idleWindowMs: 2000, timeoutMs: 30_000,
        });
      });
    }
    if (only.has('stream-rate')) {
      await attempt('stream-rate', async () => {
        results.streamRate = await runStreamRate(ctx, streamRateSettingsFromEnv());
      });
    }
    if (only.has('stream-rotation')) {
      await attempt('stream-rotation', async () => {
        results.streamRotation = await runStreamRotation(ctx, {
          ratePerSecond: 1_000, durationMs: 30_000, intervalMs: 3_000, channelLifetimeMs: 4_000, leaseGraceSeconds: 2, settleMs: 5_000,
        });
      });
    }
  } finally {
    await registry.stopAll();
    for (const prefix of ctx.prefixes) await deleteKeys(redis, prefix);
    redis.disconnect();
    await Promise.allSettled([sandbox.close(), idp.close(), rm(dir, { recursive: true, force: true })]);
  }
  const full: BenchResults & Extra = {
    ...results,
    durationMs: Date.now() - startedAt.getTime(),
    machine: { atStart, loadavgAtEnd: machineInfo().loadavg },
    checks: [...checksOf(results), ...(results.memory ? memoryChecks(results.memory) : []), ...(results.scaleOut ? scaleOutChecks(results.scaleOut) : []),
      ...(results.streamRate ? streamRateChecks(results.streamRate) : []), ...(results.streamRotation ? streamRotationChecks(results.streamRotation) : []),
      ...(results.growth ? growthChecks(results.growth) : [])],
  };
  if (full.memory) console.log(`\n${formatMemory(full.memory)}`);
  if (full.scaleOut) console.log(`\n${formatScaleOut(full.scaleOut)}`);
  if (full.streamRate) console.log(`\n${formatStreamRate(full.streamRate)}`);
  if (full.streamRotation) console.log(`\n${formatStreamRotation(full.streamRotation)}`);
  if (full.tracingOverhead) console.log(`\n${formatTracingOverhead(full.tracingOverhead)}`);
  if (full.growth) console.log(`\n${formatGrowth(full.growth)}`);
  console.log(`\n${formatTable(full)}`);
  const file = await writeResults(RESULTS_DIR, full);
  console.log(`\nresults: ${file} (${(full.durationMs / 1000).toFixed(1)} s)`);
  return full.errors.length ? 1 : 0;
}

/** Removes a scenario's keys (SCAN, bounded batches) so that runs leave Redis as they found it. */
async function deleteKeys(redis: ReturnType<typeof createRedis>, prefix: string): Promise<void> {
  if (!('scanStream' in redis)) return;
  const stream = redis.scanStream({ match: `${prefix}:*`, count: 500 });
  for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.del(...keys);
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error('bench: failed:', err);
  process.exit(1);
});
