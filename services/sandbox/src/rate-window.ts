/** The state of one key's window, as the `inin-ratelimit-*` headers report it. */
export interface WindowState {
  allowed: boolean;
  count: number;
  limit: number;
  /** Whole seconds until the window resets (at least 1). */
  resetSeconds: number;
}

/**
 * A fixed one-minute window per key, driven by the injected clock so that tests can move time.
 * Fixed rather than sliding because Genesys reports a count and a reset time, which is what a
 * fixed window has.
 */
export class RateWindow {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly now: () => number,
    private readonly windowMs = 60_000,
  ) {}

  /** Counts one request for `key` and says whether it is within the limit. */
  hit(key: string): WindowState {
    const t = this.now();
    let w = this.#windows.get(key);
    if (!w || t - w.start >= this.windowMs || t < w.start) {
      w = { start: t, count: 0 };
      this.#windows.set(key, w);
    }
    w.count += 1;
    return {
      allowed: w.count <= this.limit,
      count: w.count,
      limit: this.limit,
      resetSeconds: Math.max(1, Math.ceil((w.start + this.windowMs - t) / 1000)),
    };
  }

  clear(): void {
    this.#windows.clear();
  }
}
