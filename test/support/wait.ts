// The one "poll until a condition holds" helper of the test code (system tests and package tests).
import { setTimeout as sleep } from 'node:timers/promises';

/** The values `waitFor` keeps polling through. */
type Falsy = undefined | null | false | 0 | '';

export interface WaitOptions {
  /** How long to keep polling before giving up (default 10 s). */
  timeoutMs?: number;
  /** The pause between two checks (default 25 ms). */
  intervalMs?: number;
}

/**
 * Polls `check` until it returns (or resolves to) a truthy value and resolves with that value. A
 * `check` that throws or rejects counts as "not yet". After `timeoutMs` (one last check is made at
 * the deadline) it throws `timed out after <ms> ms waiting for <what>`, followed by the last
 * error's message when a check threw.
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, options: WaitOptions = {}): Promise<Exclude<T, Falsy>> {
  const { timeoutMs = 10_000, intervalMs = 25 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Exclude<T, Falsy>;
    } catch (err) {
      lastError = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const detail = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`, lastError === undefined ? undefined : { cause: lastError });
    }
    await sleep(Math.min(intervalMs, left));
  }
}
