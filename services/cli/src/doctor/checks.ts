/** One doctor finding: what was checked, whether it holds, and what to do when not. */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** What was found (never a secret). */
  detail: string;
  /** How to fix it, when it failed. */
  fix?: string;
  /** The error code behind a failure. */
  code?: string;
}

/** Runs one check; a throw becomes a failed result with the given fix. */
export async function runCheck(name: string, fix: string, body: () => Promise<string>): Promise<CheckResult> {
  try {
    return { name, ok: true, detail: await body() };
  } catch (err) {
    const e = err as { message?: string; code?: string };
    return { name, ok: false, detail: e.message ?? String(err), fix, code: typeof e.code === 'string' ? e.code : undefined };
  }
}

/** Rejects after `ms` with `message`, so a hung dependency does not hang the doctor. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); }),
  ]).finally(() => clearTimeout(timer));
}
