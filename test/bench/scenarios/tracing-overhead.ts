/**
 * What tracing costs on the hit path (issue 12): the same closed-loop load as the hit-path scenario
 * (`GET /v1/tokens/sales`, warm caches, log level `warn`) against three broker processes in one run:
 * tracing off (no OTEL_* variables: the SDK is not loaded, the spans in the code are the API's
 * no-ops), and tracing on with OTEL_TRACES_EXPORTER=otlp to an OTLP/HTTP receiver in the runner, with
 * the sampler at 0 (`parentbased_traceidratio`, argument 0: every span started, none recorded) and
 * at 1 (argument 1: every request's span recorded and exported). The load sends no traceparent, so
 * the root sampler decides. Rounds interleave the three (rotating order); figures are medians and
 * the ratios medians of per-round ratios, of the rate and of the server's CPU per answer.
 */
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { ClosedLoopResult } from '../lib/closed-loop.js';
import { startBrokerProcess } from '../lib/broker-process.js';
import type { WorkerMessage } from '../lib/child.js';
import { benchBrokerConfig, freshPrefix, median, startWorker, type BenchContext } from './context.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export interface TracingOverheadSettings {
  connections: number;
  durationMs: number;
  warmupMs: number;
  rounds: number;
  maxRequests: number;
}

const TARGETS = ['tracing-off', 'sampler-0', 'sampler-1'] as const;
type Target = (typeof TARGETS)[number];

export interface TracingOverheadResult {
  settings: TracingOverheadSettings;
  targets: Record<Target, { rps: number; p50: number; p99: number; non200: number; cpuUsPerRequest: number }>;
  /** Rate with tracing on over rate with it off (1 = free), median of the rounds. */
  ratios: { sampler0VsOff: number; sampler1VsOff: number; perRound: { sampler0VsOff: number[]; sampler1VsOff: number[] } };
  /** The same from the server's CPU per answer: off's µs over on's (1 = free). */
  cpuRatios: { sampler0VsOff: number; sampler1VsOff: number; perRound: { sampler0VsOff: number[]; sampler1VsOff: number[] } };
  /** What the OTLP receiver got: export requests and bytes (sampler 0 must send none). */
  exported: { requests: number; bytes: number };
  rounds: { round: number; target: Target; result: ClosedLoopResult }[];
}

/** Runs the scenario and stops everything it started. */
export async function runTracingOverhead(ctx: BenchContext, settings: TracingOverheadSettings): Promise<TracingOverheadResult> {
  const client = ctx.sandbox.admin.createClient({ name: 'bench tracing', tokenLifetimeSeconds: 3600 });
  const prefix = freshPrefix(ctx, 'tracing');
  const exported = { requests: 0, bytes: 0 };
  // The collector stand-in: takes every export and answers 200 (an empty ExportTraceServiceResponse).
  const receiver = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => { exported.bytes += chunk.length; });
    req.on('end', () => {
      exported.requests += 1;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  const traced = (ratio: string) => ({
    OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'gtb-broker',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: ratio,
  });
  const stops: (() => Promise<void>)[] = [];
  try {
    const config = benchBrokerConfig(ctx, { prefix, client, logLevel: 'warn' });
    const [off, zero, one, load] = await Promise.all([
      startBrokerProcess(ctx.registry, { name: 'bench-tracing-off', config, dir: ctx.dir }),
      startBrokerProcess(ctx.registry, { name: 'bench-tracing-sampler-0', config, dir: ctx.dir, env: traced('0') }),
      startBrokerProcess(ctx.registry, { name: 'bench-tracing-sampler-1', config, dir: ctx.dir, env: traced('1') }),
      startWorker(ctx.registry.forkWorker('load-tracing', here('../workers/load-worker.ts'), {}, 'load')),
    ]);
    stops.push(off.stop, zero.stop, one.stop, load.stop);
    const headers = { authorization: `Bearer ${ctx.appToken}` };
    const targets: { name: Target; url: string; pid: number }[] = [
      { name: 'tracing-off', url: `${off.url}/v1/tokens/sales`, pid: off.pid },
      { name: 'sampler-0', url: `${zero.url}/v1/tokens/sales`, pid: zero.pid },
      { name: 'sampler-1', url: `${one.url}/v1/tokens/sales`, pid: one.pid },
    ];
    for (const t of targets) {
      const res = await fetch(t.url, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`tracing overhead: ${t.name} answered ${res.status} to the priming request`);
    }
    ctx.log(`tracing overhead: ${settings.rounds} rounds × ${targets.length} targets × ${settings.durationMs} ms, ${settings.connections} connections`);
    const rounds: TracingOverheadResult['rounds'] = [];
    for (let round = 0; round < settings.rounds; round++) {
      for (const t of targets.map((_t, i) => targets[(i + round) % targets.length]!)) {
        const warmupMs = round === 0 ? settings.warmupMs : Math.min(settings.warmupMs, 300);
        load.send({ type: 'closed-loop', options: { urls: [t.url], headers, connections: settings.connections, durationMs: settings.durationMs, warmupMs, maxRequests: settings.maxRequests, serverPid: t.pid } });
        const { result } = await load.next<WorkerMessage & { result: ClosedLoopResult }>('result', settings.durationMs + warmupMs + 30_000);
        rounds.push({ round, target: t.name, result });
        ctx.log(`  round ${round + 1} ${t.name.padEnd(12)} ${String(result.rps).padStart(6)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms  server CPU ${result.serverCpuUsPerRequest ?? '?'} µs/req`);
      }
    }
    // Draining flushes the exporters' last batches.
    await Promise.allSettled(stops.map((s) => s()));
    return { settings, targets: summarize(rounds), ratios: ratiosOf(rounds, settings.rounds, (r) => r.rps, false), cpuRatios: ratiosOf(rounds, settings.rounds, (r) => r.serverCpuUsPerRequest ?? 0, true), exported, rounds };
  } finally {
    await Promise.allSettled(stops.map((s) => s()));
    await new Promise<void>((r) => receiver.close(() => r()));
  }
}

function summarize(rounds: TracingOverheadResult['rounds']): TracingOverheadResult['targets'] {
  const one = (name: Target) => {
    const mine = rounds.filter((r) => r.target === name).map((r) => r.result);
    return {
      rps: Math.round(median(mine.map((r) => r.rps))),
      p50: median(mine.map((r) => r.latency.p50)),
      p99: median(mine.map((r) => r.latency.p99)),
      non200: mine.reduce((n, r) => n + Object.entries(r.statuses).filter(([s]) => s !== '200').reduce((m, [, c]) => m + c, 0), 0),
      cpuUsPerRequest: median(mine.map((r) => r.serverCpuUsPerRequest ?? 0)),
    };
  };
  return { 'tracing-off': one('tracing-off'), 'sampler-0': one('sampler-0'), 'sampler-1': one('sampler-1') };
}

/** on/off per round (or off/on for a cost such as CPU per answer), and the median. */
function ratiosOf(rounds: TracingOverheadResult['rounds'], count: number, value: (r: ClosedLoopResult) => number, cost: boolean) {
  const of = (round: number, target: Target) => value(rounds.find((r) => r.round === round && r.target === target)!.result);
  const r2 = (n: number) => Math.round(n * 100) / 100;
  const per = (on: Target) => Array.from({ length: count }, (_x, i) => {
    const [a, b] = cost ? [of(i, 'tracing-off'), of(i, on)] : [of(i, on), of(i, 'tracing-off')];
    return b > 0 ? r2(a / b) : 0;
  });
  const zero = per('sampler-0');
  const one = per('sampler-1');
  return { sampler0VsOff: r2(median(zero)), sampler1VsOff: r2(median(one)), perRound: { sampler0VsOff: zero, sampler1VsOff: one } };
}

/** The scenario's lines for the printed table. */
export function formatTracingOverhead(r: TracingOverheadResult): string {
  const rows = TARGETS.map((name) => {
    const t = r.targets[name];
    return `  ${name.padEnd(12)} ${String(t.rps).padStart(7)} req/s  p50 ${t.p50} ms  p99 ${t.p99} ms  ${t.cpuUsPerRequest} µs CPU/answer  non-200 ${t.non200}`;
  });
  return [
    'Tracing on the hit path (broker, warn logging; OTLP/HTTP to a receiver in the runner)',
    ...rows,
    `  rate ratio vs off:  sampler 0 ${r.ratios.sampler0VsOff}  sampler 1 ${r.ratios.sampler1VsOff}   (per round: ${r.ratios.perRound.sampler0VsOff.join(', ')} | ${r.ratios.perRound.sampler1VsOff.join(', ')})`,
    `  CPU ratio vs off:   sampler 0 ${r.cpuRatios.sampler0VsOff}  sampler 1 ${r.cpuRatios.sampler1VsOff}   (per round: ${r.cpuRatios.perRound.sampler0VsOff.join(', ')} | ${r.cpuRatios.perRound.sampler1VsOff.join(', ')})`,
    `  exported: ${r.exported.requests} OTLP requests, ${r.exported.bytes} bytes`,
  ].join('\n');
}
