import { LRUCache } from 'lru-cache';
import type { GtbError } from '@gtb/errors';

/**
 * Remembers rejected tokens for a short time, keyed by the token's SHA-256 (never the token), so
 * that a flood of one junk token costs one verification: the same error is thrown again from here.
 * Bounded (LRU); the injected clock decides expiry, so tests drive it.
 */
export class RejectedCache {
  readonly #entries: LRUCache<string, { error: GtbError; until: number }>;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(max: number, ttlMs: number, now: () => number) {
    this.#entries = new LRUCache({ max });
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get(key: string): GtbError | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.error;
  }

  set(key: string, error: GtbError): void {
    if (this.#ttlMs > 0) this.#entries.set(key, { error, until: this.#now() + this.#ttlMs });
  }

  clear(): void {
    this.#entries.clear();
  }
}
