/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes; BENCH_CPU_PROF_DIR makes every broker
 * write one) and ranks where the time went: self time per function, and the share spent under a
 * few named areas (Express, pino, garbage collection), so that a run's profile reads as a table.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  /** `function (file:line)`, the file relative to node_modules or the repository. */
  name: string;
  /** Share of all samples, in %. */
  percent: number;
}

export interface ProfileSummary {
  /** Busy (not idle) time sampled; the percentages are shares of it. */
  totalMs: number;
  /** Self time, highest first. */
  top: ProfileEntry[];
  /** Inclusive time of each area (a sample counts once per area whose code is on its stack). */
  areas: Record<string, number>;
}

/** Where a frame's file belongs, for the inclusive areas. */
const AREAS: Record<string, (url: string, fn: string) => boolean> = {
  express: (url) => /node_modules\/(express|router|body-parser|finalhandler|send|serve-static)\//.test(url),
  helmet: (url) => url.includes('node_modules/helmet/'),
  'express-rate-limit': (url) => url.includes('node_modules/express-rate-limit/'),
  pino: (url) => /node_modules\/(pino|sonic-boom|pino-std-serializers|quick-format-unescaped|fast-redact|@pinojs)\//.test(url),
  'prom-client': (url) => url.includes('node_modules/prom-client/'),
  'garbage collection': (_url, fn) => fn === '(garbage collector)',
  'node:http': (url) => /^node:_http|^node:internal\/http|_http_/.test(url),
};

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const repo = url.indexOf('/services/');
  if (repo >= 0) return url.slice(repo + 1);
  const shared = url.indexOf('/shared/');
  return shared >= 0 ? url.slice(shared + 1) : url.replace(/^file:\/\//, '');
}

/** Summarizes one profile file. */
export async function summarizeCpuProfile(file: string, topN = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let total = 0;
  // Shares are of the busy time: idle samples (waiting for requests) are left out.
  profile.samples.forEach((id, i) => {
    if (byId.get(id)?.callFrame.functionName === '(idle)') return;
    const dt = Math.max(0, profile.timeDeltas[i] ?? 0);
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const byName = new Map<string, number>();
  const areas: Record<string, number> = Object.fromEntries(Object.keys(AREAS).map((a) => [a, 0]));
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = url ? `${functionName || '(anonymous)'} (${shortUrl(url)}:${lineNumber + 1})` : functionName;
    byName.set(name, (byName.get(name) ?? 0) + us);
    // Inclusive areas: walk the stack once, counting each area at most once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      for (const [area, test] of Object.entries(AREAS)) if (!seen.has(area) && test(frame.url, frame.functionName)) seen.add(area);
    }
    for (const area of seen) areas[area]! += us;
  }
  const pct = (us: number) => Math.round((us / Math.max(1, total)) * 1000) / 10;
  const top = [...byName].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([name, us]) => ({ name, percent: pct(us) }));
  return { totalMs: Math.round(total / 1000), top, areas: Object.fromEntries(Object.entries(areas).map(([a, us]) => [a, pct(us)])) };
}

/** The summary as printable lines. */
export function formatCpuProfile(label: string, s: ProfileSummary): string {
  const lines = [`${label}: ${s.totalMs} ms busy; inclusive: ${Object.entries(s.areas).map(([a, p]) => `${a} ${p} %`).join(', ')}`];
  for (const e of s.top) lines.push(`  ${e.percent.toFixed(1).padStart(5)} %  ${e.name}`);
  return lines.join('\n');
}

/** With BENCH_CPU_PROF_DIR, each named broker's profile ranked and printed. */
export async function rankProfiles(log: (line: string) => void, names: string[]): Promise<Record<string, ProfileSummary> | undefined> {
  const dir = process.env['BENCH_CPU_PROF_DIR'];
  if (!dir) return undefined;
  const out: Record<string, ProfileSummary> = {};
  for (const name of names) {
    try {
      out[name] = await summarizeCpuProfile(`${dir}/${name}.cpuprofile`);
      log(formatCpuProfile(name, out[name]));
    } catch (err) {
      log(`${name}: no CPU profile (${(err as Error).message})`);
    }
  }
  return out;
}
