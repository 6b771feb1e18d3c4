/** What every scenario gets from the runner, and the broker configuration they share. */
import { randomUUID } from 'node:crypto';
import type { RunningSandbox } from '@gtb/sandbox';
import type { TestIdp } from '../../fixtures/idp/index.js';
import { brokerConfigFor } from '../../support/system.js';
import type { ChildRegistry, WorkerHandle } from '../lib/child.js';

export interface BenchContext {
  registry: ChildRegistry;
  sandbox: RunningSandbox;
  idp: TestIdp;
  /** A JWT of the IdP's `demo-app` client (group `sales-apps`, allowed the `sales` profile). */
  appToken: string;
  /** Private temp folder for config files. */
  dir: string;
  /** Every Redis key prefix a scenario used, for the runner to clean up. */
  prefixes: string[];
  log(line: string): void;
}

/** A fresh Redis key prefix (a cold cache), remembered for clean-up. */
export function freshPrefix(ctx: BenchContext, label: string): string {
  const prefix = `bench-${label}-${randomUUID().slice(0, 8)}`;
  ctx.prefixes.push(prefix);
  return prefix;
}

/**
 * The broker configuration of the benchmark: one `sales` profile on the sandbox, the per-caller
 * limit at its maximum (one caller makes all the load here, so the limit would be what is measured),
 * and `warn` logging unless asked for `info` (which logs every request).
 */
export function benchBrokerConfig(ctx: BenchContext, opts: { prefix: string; client: { clientId: string; clientSecret: string }; logLevel: 'warn' | 'info'; fastPath?: boolean }): Record<string, unknown> {
  const base = brokerConfigFor({
    prefix: opts.prefix,
    sandboxUrl: ctx.sandbox.url,
    issuers: [ctx.idp.issuer],
    audience: ctx.idp.audience,
    clients: [{ name: 'sales', ...opts.client }],
    minTtlSeconds: 60,
  });
  const http = { ...(base['http'] as Record<string, unknown> | undefined), fastPath: opts.fastPath ?? true };
  return { ...base, http, logLevel: opts.logLevel, rateLimit: { perMinute: 1_000_000 } };
}

/** The median of a non-empty list. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Waits until a forked worker has loaded (its `started` message). */
export async function startWorker(worker: WorkerHandle, timeoutMs = 60_000): Promise<WorkerHandle> {
  await worker.next('started', timeoutMs);
  return worker;
}
