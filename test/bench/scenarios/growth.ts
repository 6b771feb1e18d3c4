/**
 * Growth (issue 15): does the hit path's cost grow with the size of the configuration? One broker
 * process per configuration, all else equal (the hit-path scenario's `broker`: log level `warn`,
 * fast path on, the per-caller limit at its maximum): 1, 10, 100 and 500 profiles with one trusted
 * IdP, and 1, 3 and 10 trusted IdPs with one profile. The load is the hit path's closed loop
 * (autocannon in the load worker, `GET /v1/tokens/{profile}` with a verified IdP token, warm
 * caches), each connection cycling through every configured profile; the caller's token comes from
 * the LAST configured IdP, whose policy rule is the last one (the worst case for the rule walk).
 * Every broker makes the same number of upstream token requests before the load (priming, then
 * rotations): a broker's CPU per hit depends on that history (see the `1 primed` diagnostic row
 * and test/bench/README.md), and the configurations are to differ in nothing else. Rounds interleave the brokers in a rotating order; figures are medians, and the CPU ratios to the
 * 1-profile / 1-IdP broker medians of per-round ratios. Also per broker: RSS when ready, after
 * every profile's token is cached and after the load, its background CPU while idle (per-profile
 * timers), the Prometheus samples its `/metrics` exposes, and, last (writing a heap snapshot makes
 * V8 touch memory it then keeps, so every RSS is read before), its live heap from a heap snapshot,
 * the largest profile count's compared with the baseline's by kind of object.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { startIdp, type TestIdp } from '../../fixtures/idp/index.js';
import { CLIENTS } from '../../support/system.js';
import type { ClosedLoopResult } from '../lib/closed-loop.js';
import { startBrokerProcess, type BrokerProcess } from '../lib/broker-process.js';
import { processCpuMs, processRssMiB } from '../lib/process-cpu.js';
import type { ProfileSummary } from '../lib/cpu-profile.js';
import { rankProfiles } from '../lib/cpu-profile.js';
import { heapGrowth, summarizeHeapSnapshot, type HeapSummary } from '../lib/heap-snapshot.js';
import type { WorkerMessage } from '../lib/child.js';
import { benchBrokerConfig, freshPrefix, median, startWorker, type BenchContext } from './context.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export interface GrowthSettings {
  connections: number;
  durationMs: number;
  warmupMs: number;
  rounds: number;
  maxRequests: number;
  /** Profile counts of the first series (one IdP). The first is the baseline of both series. */
  profileCounts: number[];
  /** Trusted-IdP counts of the second series (one profile). */
  idpCounts: number[];
  /**
   * Wait after priming, before the idle window and the load: each mint's upstream request armed a
   * 10 s timer (AbortSignal.timeout) that fires even though the answer came, and on Node 20 undici's
   * abort handling then runs (seen in the brokers' CPU profiles); 500 of them firing in the first
   * round would land on the CPU of whichever broker is measured then.
   */
  settleMs: number;
  /** Window over which each broker's CPU is read while nothing loads it. */
  idleWindowMs: number;
  /** Priming requests in flight per broker (each first request of a profile mints once). */
  primeConcurrency: number;
  /**
   * Upstream token requests every broker has made before the load: after priming, a broker with
   * fewer profiles rotates them (admin API, round-robin) up to this count, so that every broker
   * has the same history (a broker's CPU per hit was found to depend on how many mints it made,
   * not on how many profiles it has). Genesys' limit is 300 a minute per client: at most 299.
   */
  mintHistory: number;
}

export interface GrowthCase {
  name: string;
  profiles: number;
  idps: number;
  /** Profiles whose token was fetched (one mint each) before the load. */
  primedProfiles: number;
  /** Rotations (one mint each) after priming, so that the broker's mints before the load reach `mintHistory`. */
  rotations: number;
  /** Profiles the load cycles through: every configured one, or 1 in the row that tells the configuration's size from the load's spread. */
  loadProfiles: number;
  /** Policy rules configured (an `admins` rule, then one rule per IdP). */
  rules: number;
  rps: number;
  p50: number;
  p99: number;
  non200: number;
  /** The broker's CPU time (user + system) per answer over the measured phase, µs; median of the rounds. */
  cpuUsPerRequest: number;
  cpuUsPerRequestPerRound: number[];
  /** This case's CPU per answer over the baseline's (1 profile, 1 IdP), per round, and their median. */
  cpuVsBaseline: number;
  cpuVsBaselinePerRound: number[];
  /** Resident memory (VmRSS, MiB): ready (no token yet), primed (every profile's token in L1), after all rounds. */
  rssMiB: { ready: number; primed: number; afterLoad: number };
  /** Sample lines the broker's /metrics exposes after the load (every labelled series counts). */
  metricSamples: number;
  /** Live JS heap after the load (a heap snapshot, which collects garbage first), MiB; -1 when none was written. */
  liveHeapMiB: number;
  /** CPU ms a second while idle (no request): the broker's own timers. */
  idleCpuMsPerS: number;
  /** Token requests the sandbox answered for this broker: before the load (target: primed profiles + rotations), during the load (all brokers; target 0). */
  mints: { priming: number; load: number };
}

export interface GrowthResult {
  settings: GrowthSettings;
  cases: GrowthCase[];
  /** RSS after the load, per profile added: (largest profile count − baseline) / extra profiles, KiB. */
  rssPerProfileKiB: number;
  /** The same when every profile's token is cached, before any load. */
  rssPerProfilePrimedKiB: number;
  /** Live heap per profile added (heap snapshots after the load), KiB, and the kinds of object that grew most (KiB in all). */
  liveHeapPerProfileKiB: number;
  liveHeapGrowthKiB: { kind: string; kib: number }[];
  rounds: { round: number; case: string; result: ClosedLoopResult }[];
  /** With BENCH_CPU_PROF_DIR: each broker's CPU profile, ranked (lib/cpu-profile.ts). */
  cpuProfiles?: Record<string, ProfileSummary>;
}

interface Plan {
  name: string;
  profiles: number;
  idps: number;
  /** Profiles whose token is fetched before the load (the first ones): every one, except in the diagnostic configuration. */
  primed: number;
}

/** A row of the table: one broker (a plan entry) and how many of its profiles the load cycles through. */
export interface GrowthRow {
  name: string;
  broker: number;
  loadProfiles: number;
}

/**
 * The rows: every configuration under load spread over all its profiles; then the largest profile
 * count again with the load on its first profile only, which separates what the configuration's
 * size costs each answer from what serving many different tokens in turn costs.
 */
export function growthRows(plan: readonly Plan[]): GrowthRow[] {
  const rows = plan.map((c, broker) => ({ name: c.name, broker, loadProfiles: c.primed }));
  const largest = plan.reduce((a, c, i) => (c.profiles > plan[a]!.profiles ? i : a), 0);
  if (plan[largest]!.profiles > 1) rows.push({ name: `${plan[largest]!.name}, load on 1`, broker: largest, loadProfiles: 1 });
  return rows;
}

/**
 * The configurations of a run: the profile series on one IdP, then the IdP series on one profile,
 * without repeats, every profile primed; then, as a diagnostic, the largest profile count with only
 * its first profile primed (one mint before the load instead of hundreds), loaded on that profile.
 */
export function growthPlan(s: Pick<GrowthSettings, 'profileCounts' | 'idpCounts'>): Plan[] {
  const baseProfiles = s.profileCounts[0] ?? 1;
  const named = (c: { profiles: number; idps: number }) => `${c.profiles} profile${c.profiles === 1 ? '' : 's'}, ${c.idps} IdP${c.idps === 1 ? '' : 's'}`;
  const all = [
    ...s.profileCounts.map((profiles) => ({ profiles, idps: 1 })),
    ...s.idpCounts.map((idps) => ({ profiles: baseProfiles, idps })),
  ].filter((c, i, list) => list.findIndex((o) => o.profiles === c.profiles && o.idps === c.idps) === i)
    .map((c) => ({ ...c, primed: c.profiles, name: named(c) }));
  const most = Math.max(...s.profileCounts);
  if (most > 1) all.push({ profiles: most, idps: 1, primed: 1, name: `${named({ profiles: most, idps: 1 })}, 1 primed` });
  return all;
}

/** Profile names of the scenario: growth-001, growth-002, … (the same names in every configuration). */
export const profileName = (i: number) => `growth-${String(i + 1).padStart(3, '0')}`;

/**
 * One configuration: the hit-path broker's (benchBrokerConfig, `warn`) with `clients.length`
 * profiles and `issuers` as the trusted IdPs. Policy: an `admins` rule bound to the last issuer,
 * then one `apps-<n>` rule per IdP in the IdPs' order, each granting `sales-apps` every profile by
 * name. The benchmark's caller holds a `sales-apps` token of the last IdP, so every rule is looked
 * at before the last one matches, and with many profiles the matching rule's list is long.
 * `leases` is left at its production defaults (a sweep a second): the tests' 200 ms sweep of every
 * profile would be what grows here, and production does not run it.
 */
export function growthBrokerConfig(base: Record<string, unknown>, opts: { clients: { name: string; clientId: string; clientSecret: string }[]; issuers: string[]; audience: string }): Record<string, unknown> {
  const [template] = base['profiles'] as Record<string, unknown>[];
  const names = opts.clients.map((c) => c.name);
  const last = opts.issuers[opts.issuers.length - 1]!;
  const { leases: _leases, ...rest } = base;
  return {
    ...rest,
    idps: opts.issuers.map((issuer) => ({ issuer, audience: opts.audience, allowInsecure: true })),
    policy: {
      rules: [
        { name: 'admins', match: { issuer: last, rolesAny: ['gtb-admin'] }, profiles: ['*'], admin: true },
        ...opts.issuers.map((issuer, i) => ({ name: `apps-${i + 1}`, match: { issuer, groupsAny: ['sales-apps'] }, profiles: names })),
      ],
    },
    profiles: opts.clients.map((c) => ({ ...template, name: c.name, clientId: c.clientId, clientSecret: c.clientSecret })),
  };
}

/** Runs the scenario and stops everything it started. */
export async function runGrowth(ctx: BenchContext, settings: GrowthSettings): Promise<GrowthResult> {
  const plan = growthPlan(settings);
  const maxIdps = Math.max(...plan.map((c) => c.idps));
  // One sandbox client per broker and profile (Genesys' 300 token requests a minute are per client),
  // so the sandbox's counts are each broker's own; each broker has its own key prefix too.
  const clientsOf = plan.map((c, n) => Array.from({ length: c.profiles }, (_x, i) => ({
    name: profileName(i),
    ...ctx.sandbox.admin.createClient({ name: `bench growth ${n + 1} ${profileName(i)}`, tokenLifetimeSeconds: 3600 }),
  })));
  // The runner's IdP is the LAST of every list (the caller's token is its); the others are real
  // oidc-provider instances the broker discovers and fetches keys from (readiness asks every IdP),
  // trusted but never used by the load.
  const others: TestIdp[] = [];
  const stops: (() => Promise<void>)[] = [];
  const snapDir = (n: number) => join(ctx.dir, `growth-heap-${n + 1}`);
  try {
    await Promise.all(plan.map((_c, n) => mkdir(snapDir(n), { recursive: true })));
    for (let i = 0; i < maxIdps - 1; i++) others.push(await startIdp({ clients: [CLIENTS.app], accessTokenTtl: 3600 }));
    const started = await Promise.allSettled(plan.map((c, n) => {
      const issuers = [...others.slice(0, c.idps - 1).map((idp) => idp.issuer), ctx.idp.issuer];
      const mine = clientsOf[n]!;
      const base = benchBrokerConfig(ctx, { prefix: freshPrefix(ctx, `growth-${n + 1}`), client: mine[0]!, logLevel: 'warn' });
      const config = growthBrokerConfig(base, { clients: mine, issuers, audience: ctx.idp.audience });
      // Every broker can write a heap snapshot (the flag only installs a signal handler).
      const execArgv = ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir(n)}`];
      return startBrokerProcess(ctx.registry, { name: `bench-growth-p${c.profiles}-i${c.idps}${c.primed < c.profiles ? `-primed${c.primed}` : ''}`, config, dir: ctx.dir, readyTimeoutMs: 60_000, execArgv });
    }));
    const brokers: BrokerProcess[] = [];
    for (const r of started) if (r.status === 'fulfilled') { brokers.push(r.value); stops.push(r.value.stop); }
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const load = await startWorker(ctx.registry.forkWorker('load-growth', here('../workers/load-worker.ts'), {}, 'load'));
    stops.push(load.stop);
    const rssReady = brokers.map((b) => processRssMiB(b.pid) ?? 0);
    const headers = { authorization: `Bearer ${ctx.appToken}` };

    // Priming: every broker asked once for each of its primed profiles (one mint each, and the IdP
    // token verified); then rotations up to the same mint history (not in the diagnostic configuration).
    const minted = (n: number) => clientsOf[n]!.reduce((sum, c) => sum + (ctx.sandbox.admin.counters().tokensMinted[c.clientId] ?? 0), 0);
    const admin = { authorization: `Bearer ${await ctx.idp.clientCredentialsToken(CLIENTS.admin.client_id)}` };
    const primeStarted = performance.now();
    const rotations = plan.map((c) => (c.primed === c.profiles ? Math.max(0, settings.mintHistory - c.primed) : 0));
    await Promise.all(plan.map(async (c, n) => {
      await prime(brokers[n]!, clientsOf[n]!.slice(0, c.primed).map((p) => p.name), headers, settings.primeConcurrency);
      await rotate(brokers[n]!, clientsOf[n]!.map((p) => p.name), rotations[n]!, admin);
    }));
    const primingMints = plan.map((_c, n) => minted(n));
    ctx.log(`growth: ${plan.length} brokers primed (${primingMints.reduce((a, b) => a + b, 0)} mints, rotations included) in ${Math.round(performance.now() - primeStarted)} ms`);
    const rssPrimed = brokers.map((b) => processRssMiB(b.pid) ?? 0);

    // Background CPU of each broker with no request in flight, once priming's timers have fired.
    await new Promise((r) => setTimeout(r, settings.settleMs));
    const idleStart = brokers.map((b) => processCpuMs(b.pid) ?? 0);
    const idleT0 = performance.now();
    await new Promise((r) => setTimeout(r, settings.idleWindowMs));
    const idleSeconds = (performance.now() - idleT0) / 1000;
    const idleCpu = brokers.map((b, i) => Math.round((((processCpuMs(b.pid) ?? 0) - idleStart[i]!) / idleSeconds) * 10) / 10);

    const totalMints = () => plan.reduce((sum, _c, n) => sum + minted(n), 0);
    const totalMintsBeforeLoad = totalMints();
    const rows = growthRows(plan);
    const targets = rows.map((row) => ({ ...row, broker: brokers[row.broker]!, paths: clientsOf[row.broker]!.slice(0, row.loadProfiles).map((p) => `/v1/tokens/${p.name}`) }));
    ctx.log(`growth: ${settings.rounds} rounds × ${targets.length} targets × ${settings.durationMs} ms, ${settings.connections} connections`);
    const rounds: GrowthResult['rounds'] = [];
    for (let round = 0; round < settings.rounds; round++) {
      for (const t of targets.map((_t, i) => targets[(i + round) % targets.length]!)) {
        const warmupMs = round === 0 ? settings.warmupMs : Math.min(settings.warmupMs, 300);
        load.send({ type: 'closed-loop', options: { urls: [t.broker.url], paths: t.paths, headers, connections: settings.connections, durationMs: settings.durationMs, warmupMs, maxRequests: settings.maxRequests, serverPid: t.broker.pid } });
        const { result } = await load.next<WorkerMessage & { result: ClosedLoopResult }>('result', settings.durationMs + warmupMs + 30_000);
        rounds.push({ round, case: t.name, result });
        ctx.log(`  round ${round + 1} ${t.name.padEnd(32)} ${String(result.rps).padStart(6)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms  server CPU ${result.serverCpuUsPerRequest ?? '?'} µs/req`);
      }
    }
    const loadMints = totalMints() - totalMintsBeforeLoad;
    const rssAfter = brokers.map((b) => processRssMiB(b.pid) ?? 0);
    const samples = await Promise.all(brokers.map((b) => metricSamples(b.url)));
    // Last: a snapshot makes V8 touch memory that it then keeps. One broker at a time.
    const heaps: (HeapSummary | undefined)[] = [];
    for (const [n, b] of brokers.entries()) {
      heaps.push(await takeHeapSnapshot(b.pid, snapDir(n)).then(summarizeHeapSnapshot, (err: unknown) => {
        ctx.log(`growth: no heap snapshot of ${b.name} (${(err as Error).message})`);
        return undefined;
      }));
    }

    const baseline = plan[0]!.name;
    const cpuOf = (round: number, name: string) => rounds.find((r) => r.round === round && r.case === name)?.result.serverCpuUsPerRequest ?? 0;
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const cases: GrowthCase[] = rows.map((row) => {
      const [c, n] = [plan[row.broker]!, row.broker];
      const mine = rounds.filter((r) => r.case === row.name).map((r) => r.result);
      const perRound = Array.from({ length: settings.rounds }, (_x, i) => (cpuOf(i, baseline) > 0 ? r2(cpuOf(i, row.name) / cpuOf(i, baseline)) : 0));
      return {
        name: row.name, profiles: c.profiles, idps: c.idps, primedProfiles: c.primed, rotations: rotations[n]!, loadProfiles: row.loadProfiles, rules: c.idps + 1,
        rps: Math.round(median(mine.map((r) => r.rps))),
        p50: median(mine.map((r) => r.latency.p50)),
        p99: median(mine.map((r) => r.latency.p99)),
        non200: mine.reduce((sum, r) => sum + Object.entries(r.statuses).filter(([s]) => s !== '200').reduce((m, [, k]) => m + k, 0), 0),
        cpuUsPerRequest: median(mine.map((r) => r.serverCpuUsPerRequest ?? 0)),
        cpuUsPerRequestPerRound: mine.map((r) => r.serverCpuUsPerRequest ?? 0),
        cpuVsBaseline: r2(median(perRound)),
        cpuVsBaselinePerRound: perRound,
        rssMiB: { ready: rssReady[n]!, primed: rssPrimed[n]!, afterLoad: rssAfter[n]! },
        metricSamples: samples[n]!,
        liveHeapMiB: heaps[n]?.liveMiB ?? -1,
        idleCpuMsPerS: idleCpu[n]!,
        // Load mints are counted over all clients together (the brokers share them); any is a failure.
        mints: { priming: primingMints[n]!, load: loadMints },
      };
    });
    const first = cases[0]!;
    // The first rows are the plan's, in order, each with the load on every profile.
    const largestAt = plan.reduce((a, c, i) => (c.idps === plan[0]!.idps && c.profiles > plan[a]!.profiles ? i : a), 0);
    const largest = cases[largestAt]!;
    const extra = Math.max(1, largest.profiles - first.profiles);
    const rssPerProfileKiB = Math.round(((largest.rssMiB.afterLoad - first.rssMiB.afterLoad) * 1024) / extra);
    const rssPerProfilePrimedKiB = Math.round(((largest.rssMiB.primed - first.rssMiB.primed) * 1024) / extra);
    const [heapFirst, heapLargest] = [heaps[0], heaps[largestAt]];
    const liveHeapPerProfileKiB = heapFirst && heapLargest ? Math.round(((heapLargest.liveMiB - heapFirst.liveMiB) * 1024) / extra * 10) / 10 : -1;
    const liveHeapGrowthKiB = heapFirst && heapLargest ? heapGrowth(heapFirst, heapLargest, 10) : [];

    // The brokers write their CPU profiles when they exit.
    await Promise.allSettled(stops.map((s) => s()));
    const cpuProfiles = await rankProfiles((line) => ctx.log(line), brokers.map((b) => b.name));
    return { settings, cases, rssPerProfileKiB, rssPerProfilePrimedKiB, liveHeapPerProfileKiB, liveHeapGrowthKiB, rounds, ...(cpuProfiles ? { cpuProfiles } : {}) };
  } finally {
    await Promise.allSettled(stops.map((s) => s()));
    await Promise.allSettled(others.map((idp) => idp.close()));
  }
}

/** Asks `broker` once for each profile, `concurrency` at a time (bounded: each request times out); every answer must be 200. */
async function prime(broker: BrokerProcess, profiles: string[], headers: Record<string, string>, concurrency: number): Promise<void> {
  for (let i = 0; i < profiles.length; i += concurrency) {
    await Promise.all(profiles.slice(i, i + concurrency).map(async (name) => {
      const res = await fetch(`${broker.url}/v1/tokens/${name}`, { headers, signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`growth: ${broker.name} answered ${res.status} for profile ${name} while priming`);
    }));
  }
}

/** Rotates `count` times, round-robin over `profiles` (admin API; each a mint), one at a time, each request bounded. */
async function rotate(broker: BrokerProcess, profiles: string[], count: number, headers: Record<string, string>): Promise<void> {
  for (let i = 0; i < count; i++) {
    const name = profiles[i % profiles.length]!;
    const res = await fetch(`${broker.url}/v1/profiles/${name}/rotate`, { method: 'POST', headers, signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`growth: ${broker.name} answered ${res.status} to rotating ${name}`);
  }
}

/** How many samples the broker's /metrics exposes (every labelled series counts); -1 when unreadable. */
async function metricSamples(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
    return (await res.text()).split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  } catch {
    return -1;
  }
}

/** Asks a broker started with --heapsnapshot-signal=SIGUSR2 for a heap snapshot in `dir`; waits (bounded) until the file stops growing. */
async function takeHeapSnapshot(pid: number, dir: string): Promise<string> {
  const before = new Set(await readdir(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 60_000;
  let size = -1;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    const fresh = (await readdir(dir)).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!fresh) continue;
    const now = (await stat(join(dir, fresh))).size;
    if (now === size && now > 0) return join(dir, fresh);
    size = now;
  }
  throw new Error('heap snapshot not written within 60 s');
}


/** The issue's targets: CPU per hit flat (≤ 1.25 × the baseline's) at the largest profile and IdP counts; every answer 200; no mint under load. */
export function growthChecks(r: GrowthResult): { name: string; target: string; value: number | string; pass: boolean }[] {
  const first = r.cases[0];
  if (!first) return [];
  const checks: { name: string; target: string; value: number | string; pass: boolean }[] = [];
  const spread = r.cases.filter((c) => c.loadProfiles === c.profiles && c.primedProfiles === c.profiles);
  const byProfiles = spread.filter((c) => c.idps === first.idps && c.profiles !== first.profiles).at(-1);
  const byIdps = spread.filter((c) => c.profiles === first.profiles && c.idps !== first.idps).at(-1);
  if (byProfiles) {
    checks.push({ name: `growth: CPU per hit at ${byProfiles.profiles} profiles ≤ 1.25 × at ${first.profiles} profile`, target: '<= 1.25', value: byProfiles.cpuVsBaseline, pass: byProfiles.cpuVsBaseline > 0 && byProfiles.cpuVsBaseline <= 1.25 });
  }
  if (byIdps) {
    checks.push({ name: `growth: CPU per hit with ${byIdps.idps} IdPs ≤ 1.25 × with ${first.idps} IdP`, target: '<= 1.25', value: byIdps.cpuVsBaseline, pass: byIdps.cpuVsBaseline > 0 && byIdps.cpuVsBaseline <= 1.25 });
  }
  const non200 = r.cases.reduce((n, c) => n + c.non200, 0);
  checks.push({ name: 'growth: non-200 answers', target: '0', value: non200, pass: non200 === 0 });
  checks.push({ name: 'growth: upstream mints during the load', target: '0', value: first.mints.load, pass: first.mints.load === 0 });
  const wrongPriming = r.cases.filter((c) => c.mints.priming !== c.primedProfiles + c.rotations).map((c) => c.name);
  checks.push({ name: 'growth: one mint per primed profile and per rotation before the load', target: 'every broker', value: wrongPriming.length ? wrongPriming.join('; ') : 'every broker', pass: wrongPriming.length === 0 });
  return checks;
}

/** The printed table of the scenario. */
export function formatGrowth(r: GrowthResult): string {
  const s = r.settings;
  const w = [32, 8, 9, 7, 7, 7, 6, 9, 17, 9, 8];
  const row = (cells: (string | number)[]) => cells.map((c, i) => (i === 0 ? String(c).padEnd(w[i]!) : String(c).padStart(w[i]!))).join('  ');
  const lines = [
    `Growth with the configuration (broker at warn, fast path; medians of ${s.rounds} rounds × ${s.durationMs} ms, ${s.connections} connections, ` +
      'load spread over every profile, caller from the last IdP)',
    row(['configuration', 'req/s', 'CPU µs/r', '× base', 'p50 ms', 'p99 ms', 'non200', 'idle ms/s', 'RSS rdy/prm/load', 'live heap', 'series']),
  ];
  for (const c of r.cases) {
    lines.push(row([c.name, c.rps, c.cpuUsPerRequest.toFixed(1), c.cpuVsBaseline.toFixed(2), c.p50.toFixed(2), c.p99.toFixed(2), c.non200, c.idleCpuMsPerS,
      `${c.rssMiB.ready.toFixed(0)}/${c.rssMiB.primed.toFixed(0)}/${c.rssMiB.afterLoad.toFixed(0)}`, c.liveHeapMiB, c.metricSamples]));
  }
  lines.push(`  CPU ratio to the first row per round: ${r.cases.slice(1).map((c) => `${c.name}: ${c.cpuVsBaselinePerRound.join(', ')}`).join(' | ')}`);
  lines.push(`  per profile added: RSS ${r.rssPerProfilePrimedKiB} KiB primed, ${r.rssPerProfileKiB} KiB after the load; live heap ${r.liveHeapPerProfileKiB} KiB; ` +
    `mints during the load: ${r.cases[0]?.mints.load ?? '-'}`);
  lines.push(`  live heap, largest profile count over the first row, most grown (KiB): ${r.liveHeapGrowthKiB.map((g) => `${g.kind} ${g.kib}`).join(', ')}`);
  return lines.join('\n');
}
