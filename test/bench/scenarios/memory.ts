/**
 * Broker memory (issue 15): one broker process as production runs it (compiled main.js with the
 * image's Node flags and variables, `info` logging, fast path on), its resident memory (VmRSS) when
 * ready, its peak during `loadMs` of the hit path's closed-loop load and after it, with the share
 * that is anonymous memory (V8's heap, malloc) and file-backed (the node binary, shared libraries);
 * then two heap snapshots `growthMs` apart under the same load, compared for growth. RSS is read
 * before the first snapshot: writing one makes V8 and malloc touch memory they then keep.
 * (RSS after a cold storm comes from the cold-storm scenario.)
 */
import { readFileSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClosedLoopResult } from '../lib/closed-loop.js';
import { sampleRssPeaks, startBrokerProcess } from '../lib/broker-process.js';
import type { WorkerHandle, WorkerMessage } from '../lib/child.js';
import { heapGrowth, summarizeHeapSnapshot } from '../lib/heap-snapshot.js';
import { processRssMiB } from '../lib/process-cpu.js';
import { benchBrokerConfig, freshPrefix, startWorker, type BenchContext } from './context.js';

const LOAD_WORKER = fileURLToPath(new URL('../workers/load-worker.ts', import.meta.url));
/** One closed loop runs at most this long; longer loads are several in a row. */
const SEGMENT_MS = 30_000;

export interface MemorySettings {
  loadMs: number;
  growthMs: number;
  connections: number;
}

export interface MemoryResult {
  settings: MemorySettings;
  rssAtReadyMiB: number;
  rssAfterLoadMiB: number;
  /** The largest VmRSS sampled (every 250 ms) during the load phase. */
  rssPeakDuringLoadMiB: number;
  /** VmRSS split into RssAnon / RssFile (+ RssShmem) when ready and after the load. */
  rssParts: { atReady: RssParts; afterLoad: RssParts };
  /** Requests answered and their rate over the load phase, and the answers other than 200 by status. */
  load: { requests: number; rps: number; non200: number; statuses: Record<string, number> };
  heap: { firstMiB: number; secondMiB: number; growthMiB: number; topGrowthKiB: { kind: string; kib: number }[] };
}

export async function runMemory(ctx: BenchContext, settings: MemorySettings): Promise<MemoryResult> {
  const client = ctx.sandbox.admin.createClient({ name: 'bench memory', tokenLifetimeSeconds: 3600 });
  const prefix = freshPrefix(ctx, 'mem');
  const snapDir = join(ctx.dir, 'heap');
  const broker = await startBrokerProcess(ctx.registry, {
    name: 'bench-memory-broker', config: benchBrokerConfig(ctx, { prefix, client, logLevel: 'info' }), dir: ctx.dir,
    execArgv: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`],
  });
  const load = await startWorker(ctx.registry.forkWorker('load-memory', LOAD_WORKER, {}, 'load'));
  try {
    await mkdir(snapDir, { recursive: true });
    const url = `${broker.url}/v1/tokens/sales`;
    const headers = { authorization: `Bearer ${ctx.appToken}` };
    const rssAtReadyMiB = processRssMiB(broker.pid) ?? 0;
    const partsAtReady = rssParts(broker.pid);
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`memory: priming request answered ${res.status}`);
    ctx.log(`memory: ${settings.loadMs / 1000} s of load, then heap snapshots ${settings.growthMs / 1000} s apart`);
    const sampler = sampleRssPeaks([broker.pid]);
    const loaded = await loadFor(load, url, headers, settings.loadMs, settings.connections);
    const rssAfterLoadMiB = processRssMiB(broker.pid) ?? 0;
    const partsAfterLoad = rssParts(broker.pid);
    const [rssPeakDuringLoadMiB = 0] = sampler.stop();
    ctx.log(`  RSS at ready ${rssAtReadyMiB} MiB, after load ${rssAfterLoadMiB} MiB, peak ${rssPeakDuringLoadMiB} MiB (${loaded.rps} req/s)`);
    const first = await snapshot(broker.pid, snapDir, 1);
    await loadFor(load, url, headers, settings.growthMs, settings.connections);
    const second = await snapshot(broker.pid, snapDir, 2);
    const [a, b] = await Promise.all([summarizeHeapSnapshot(first), summarizeHeapSnapshot(second)]);
    return {
      settings, rssAtReadyMiB, rssAfterLoadMiB, rssPeakDuringLoadMiB, rssParts: { atReady: partsAtReady, afterLoad: partsAfterLoad }, load: loaded,
      heap: { firstMiB: a.liveMiB, secondMiB: b.liveMiB, growthMiB: Math.round((b.liveMiB - a.liveMiB) * 100) / 100, topGrowthKiB: heapGrowth(a, b) },
    };
  } finally {
    await Promise.allSettled([broker.stop(), load.stop()]);
  }
}

export interface RssParts { anonMiB: number; fileMiB: number }

/** RssAnon and RssFile + RssShmem of `pid` (Linux /proc), MiB; zeros where unreadable. */
function rssParts(pid: number): RssParts {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { anonMiB: Math.round(kib('RssAnon') / 102.4) / 10, fileMiB: Math.round((kib('RssFile') + kib('RssShmem')) / 102.4) / 10 };
  } catch {
    return { anonMiB: 0, fileMiB: 0 };
  }
}

/** The hit path's closed loop for `ms`, in bounded segments. */
async function loadFor(load: WorkerHandle, url: string, headers: Record<string, string>, ms: number, connections: number): Promise<MemoryResult['load']> {
  let requests = 0;
  let non200 = 0;
  let elapsed = 0;
  const statuses: Record<string, number> = {};
  for (let left = ms; left > 0; left -= SEGMENT_MS) {
    const durationMs = Math.min(SEGMENT_MS, left);
    load.send({ type: 'closed-loop', options: { urls: [url], headers, connections, durationMs, maxRequests: 5_000_000 } });
    const { result } = await load.next<WorkerMessage & { result: ClosedLoopResult }>('result', durationMs + 30_000);
    requests += result.requests;
    elapsed += result.durationMs;
    for (const [status, count] of Object.entries(result.statuses)) {
      if (status === '200') continue;
      non200 += count;
      statuses[status] = (statuses[status] ?? 0) + count;
    }
  }
  return { requests, rps: Math.round((requests / Math.max(1, elapsed)) * 1000), non200, statuses };
}

/** Asks the broker for a heap snapshot (SIGUSR2) and waits until the file is complete. */
async function snapshot(pid: number, dir: string, n: number): Promise<string> {
  const before = new Set(await readdir(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    const fresh = (await readdir(dir)).filter((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (fresh.length) {
      const file = join(dir, fresh[0]!);
      // V8 writes the file in one go; it is complete once it parses, so wait for its size to settle.
      let size = -1;
      for (let i = 0; i < 60; i++) {
        const now = (await stat(file)).size;
        if (now === size && now > 0) return file;
        size = now;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
  throw new Error(`memory: heap snapshot ${n} not written within 60 s`);
}

export function memoryChecks(m: MemoryResult): { name: string; target: string; value: number | string; pass: boolean }[] {
  return [
    { name: `memory: broker RSS after ${m.settings.loadMs / 1000} s of hit-path load (MiB)`, target: '<= 100', value: m.rssAfterLoadMiB, pass: m.rssAfterLoadMiB > 0 && m.rssAfterLoadMiB <= 100 },
    // A live heap that grows by more than 1 MiB over the window while the load is steady is a leak to look for.
    { name: `memory: live heap growth over ${m.settings.growthMs / 1000} s of load (MiB)`, target: '<= 1', value: m.heap.growthMiB, pass: m.heap.growthMiB <= 1 },
  ];
}

export function formatMemory(m: MemoryResult): string {
  return [
    `memory (one broker at info, ${m.settings.connections} connections): RSS at ready ${m.rssAtReadyMiB} MiB, after ${m.settings.loadMs / 1000} s of load ${m.rssAfterLoadMiB} MiB ` +
      `(peak during the load ${m.rssPeakDuringLoadMiB} MiB; ${m.load.requests} requests, ${m.load.rps} req/s, ${m.load.non200} non-200${m.load.non200 > 0 ? ` ${JSON.stringify(m.load.statuses)}` : ''})`,
    `  anonymous / file-backed: ${m.rssParts.atReady.anonMiB} / ${m.rssParts.atReady.fileMiB} MiB at ready, ${m.rssParts.afterLoad.anonMiB} / ${m.rssParts.afterLoad.fileMiB} MiB after the load`,
    `  live heap: ${m.heap.firstMiB} MiB, ${m.settings.growthMs / 1000} s later ${m.heap.secondMiB} MiB (growth ${m.heap.growthMiB} MiB); ` +
      `most grown: ${m.heap.topGrowthKiB.map((g) => `${g.kind} ${g.kib} KiB`).join(', ')}`,
  ].join('\n');
}
