import { createLocalJWKSet, errors as jose, type CryptoKey, type FlattenedJWSInput, type JSONWebKeySet, type JWTHeaderParameters } from 'jose';
import type { FetchLike } from '@gtb/errors';
import type { Logger } from '@gtb/logger';
import { reject } from './rejection.js';

/** The first retry after a failed fetch; each further failure doubles it, up to `maxBackoffMs`. */
const FIRST_BACKOFF_MS = 1000;

export interface KeySetOptions {
  url: URL;
  label: string;
  now: () => number;
  logger: Logger;
  fetch: FetchLike;
  timeoutMs: number;
  /** Minimum time between two fetches caused by unknown kids. */
  cooldownMs: number;
  /** Keys are refetched once this old. */
  cacheMaxAgeMs: number;
  /** How long past cacheMaxAgeMs the last good keys still verify while refetches fail. */
  staleMaxMs: number;
  maxBackoffMs: number;
}

/** `fresh`: within cacheMaxAge; `stale`: past it, still trusted; `expired`: too old to trust; `none`: never loaded. */
export type KeySetState = 'fresh' | 'stale' | 'expired' | 'none';

/**
 * An IdP's JSON Web Key Set, fetched and kept by the broker's own clock. jose's createRemoteJWKSet
 * (its cooldownDuration and cacheMaxAge are the model for the settings) does not fit two needs: once
 * its cache is stale it refetches on every call and fails every call while the endpoint is down, and
 * it reads the wall clock. Here a failed fetch backs off (1 s doubling up to maxBackoffMs, no fetch in
 * between), the last good keys keep verifying for a bounded time, and the clock is injected. Key
 * selection and import stay jose's (createLocalJWKSet), as does the fetch's shape (GET, no redirects,
 * 200 and JSON only, a timeout).
 */
export class KeySet {
  readonly #o: KeySetOptions;
  #local: ReturnType<typeof createLocalJWKSet> | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #retryAt = Number.NEGATIVE_INFINITY;
  #failures = 0;
  #pending: Promise<void> | undefined;

  constructor(options: KeySetOptions) {
    this.#o = options;
  }

  state(): KeySetState {
    if (!this.#local) return 'none';
    const age = this.#o.now() - this.#fetchedAt;
    if (age < this.#o.cacheMaxAgeMs) return 'fresh';
    return age < this.#o.cacheMaxAgeMs + this.#o.staleMaxMs ? 'stale' : 'expired';
  }

  /** Can keys be resolved now without a fetch? */
  usable(): boolean {
    const state = this.state();
    return state === 'fresh' || state === 'stale';
  }

  /** Refreshes the keys unless fresh (or backing off); never throws. For readiness. */
  async refresh(): Promise<void> {
    if (this.state() !== 'fresh') await this.#reload().catch(() => undefined);
  }

  /** The key for a JWS header (jose's getKey contract); GtbError when the IdP cannot be asked. */
  async getKey(header: JWTHeaderParameters, input: FlattenedJWSInput): Promise<CryptoKey> {
    if (this.state() !== 'fresh') {
      try {
        await this.#reload();
      } catch (err) {
        if (!this.usable()) throw this.#unavailable(err);
        // Stale but still trusted: verify with the last good keys.
      }
    }
    const local = this.#local!;
    try {
      return await local(header, input);
    } catch (err) {
      // A new kid: the IdP may have rotated. One fetch per cooldown, whoever asks.
      if (err instanceof jose.JWKSNoMatchingKey && this.#o.now() - this.#attemptedAt >= this.#o.cooldownMs) {
        try {
          await this.#reload();
        } catch (fetchErr) {
          throw this.#unavailable(fetchErr);
        }
        return this.#local!(header, input);
      }
      throw err;
    }
  }

  #unavailable(err: unknown) {
    const retryAfter = Math.max(1, Math.ceil((this.#retryAt - this.#o.now()) / 1000));
    return reject('ERR_IDP_UNAVAILABLE', 'unavailable', { message: `identity provider ${this.#o.label} key set unavailable`, cause: err, retryAfter });
  }

  /** One fetch at a time; refused without a request while backing off after a failure. */
  #reload(): Promise<void> {
    if (this.#pending) return this.#pending;
    const now = this.#o.now();
    if (now < this.#retryAt) return Promise.reject(new Error(`key set fetch backing off after ${this.#failures} failure(s)`));
    this.#attemptedAt = now;
    const attempt = this.#fetch().then(
      (local) => {
        this.#local = local;
        this.#fetchedAt = this.#o.now();
        this.#failures = 0;
        this.#retryAt = Number.NEGATIVE_INFINITY;
      },
      (err: unknown) => {
        this.#failures += 1;
        const delay = Math.min(FIRST_BACKOFF_MS * 2 ** Math.min(this.#failures - 1, 30), this.#o.maxBackoffMs);
        this.#retryAt = this.#o.now() + delay;
        this.#o.logger.warn(
          { idp: this.#o.label, failures: this.#failures, retryInMs: delay, keys: this.state(), err: err instanceof Error ? err.message : String(err) },
          'identity provider key set fetch failed',
        );
        throw err;
      },
    ).finally(() => {
      this.#pending = undefined;
    });
    this.#pending = attempt;
    return attempt;
  }

  async #fetch(): Promise<ReturnType<typeof createLocalJWKSet>> {
    const res = await this.#o.fetch(this.#o.url.href, {
      method: 'GET',
      redirect: 'manual',
      headers: { accept: 'application/json, application/jwk-set+json' },
      signal: AbortSignal.timeout(this.#o.timeoutMs),
    });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`key set answered HTTP ${res.status}`);
    }
    // createLocalJWKSet throws JWKSInvalid on anything but { keys: [...] }, before it replaces good keys.
    return createLocalJWKSet((await res.json()) as JSONWebKeySet);
  }
}
