/**
 * Scenario 3, the usual practice: the same load as the cold storm (`processes` × `instancesPerProcess`
 * callers wanting a token), but every caller is its own official-SDK ApiClient that logs in by itself
 * (`loginClientCredentialsGrant` once each, all at once, no retry: the SDK has none). Counted at the
 * sandbox, which applies Genesys' default 300 token requests a minute per client.
 */
import { fileURLToPath } from 'node:url';
import { mergeLatencies, summarize, type LatencySummary } from '../lib/latency.js';
import type { WorkerMessage } from '../lib/child.js';
import { counts } from './cold-storm.js';
import { startWorker, type BenchContext } from './context.js';

const SDK_WORKER = fileURLToPath(new URL('../workers/sdk-worker.ts', import.meta.url));

export interface SdkStormSettings {
  processes: number;
  instancesPerProcess: number;
}

export interface SdkStormResult {
  settings: SdkStormSettings;
  model: string;
  /** Token requests that reached the sandbox for this client (minted + throttled). */
  upstreamTokenRequests: number;
  upstreamMints: number;
  upstreamThrottled: number;
  /** Outcomes as the SDK callers saw them (`ok`, `failed-400`, …). */
  outcomes: Record<string, number>;
  latency: LatencySummary;
  /** The sandbox's token limit per client and minute. */
  sandboxTokenLimitPerMinute: number;
}

interface SdkWorkerResult {
  instances: number;
  wallMs: number;
  outcomes: Record<string, number>;
  /** Encoded latency histogram (lib/latency.ts). */
  histogram: string;
}

/** Runs scenario 3 and stops everything it started. */
export async function runSdkStorm(ctx: BenchContext, settings: SdkStormSettings, sandboxTokenLimitPerMinute: number): Promise<SdkStormResult> {
  const client = ctx.sandbox.admin.createClient({ name: 'bench sdk storm', tokenLifetimeSeconds: 3600 });
  const port = Number(new URL(ctx.sandbox.url).port);
  const workers = await Promise.all(Array.from({ length: settings.processes }, (_x, i) => startWorker(ctx.registry.forkWorker(`sdk-${i + 1}`, SDK_WORKER))));
  try {
    for (const w of workers) w.send({ type: 'prepare', port, clientId: client.clientId, clientSecret: client.clientSecret, instances: settings.instancesPerProcess });
    await Promise.all(workers.map((w) => w.next('ready', 60_000)));
    const before = counts(ctx, client.clientId);
    ctx.log(`sdk storm: ${settings.processes} processes × ${settings.instancesPerProcess} SDK ApiClients, fire`);
    for (const w of workers) w.send({ type: 'fire' });
    // The SDK's own HTTP timeout is 16 s; leave room above it.
    const results = await Promise.all(workers.map((w) => w.next<WorkerMessage & { result: SdkWorkerResult }>('result', 60_000)));
    const after = counts(ctx, client.clientId);
    const histogram = mergeLatencies(results.map(({ result }) => result.histogram));
    const outcomes: Record<string, number> = {};
    for (const { result } of results) {
      for (const [k, n] of Object.entries(result.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + n;
    }
    const minted = after.minted - before.minted;
    const throttled = after.rejected - before.rejected;
    return {
      settings,
      model: `${settings.processes} processes × ${settings.instancesPerProcess} purecloud-platform-client-v2 ApiClient instances, each calling loginClientCredentialsGrant once, all at the same moment; no retries`,
      upstreamTokenRequests: minted + throttled,
      upstreamMints: minted,
      upstreamThrottled: throttled,
      outcomes,
      latency: summarize(histogram),
      sandboxTokenLimitPerMinute,
    };
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
  }
}
