/**
 * A log-bucketed latency histogram (1 % relative precision, 1 µs to 10 min) with a sparse JSON
 * form, so that child processes can send theirs to the runner and the runner can merge them.
 * Bounded memory whatever the request count, unlike keeping every sample.
 */
const MIN_MS = 0.001;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / LOG_GROWTH) + 1;

/** What a result reports about latencies, in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The wire form: `[bucket, count]` pairs plus exact min, max and sum. */
export interface HistogramJson {
  buckets: [number, number][];
  min: number;
  max: number;
  sum: number;
  count: number;
}

export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  /** Records one latency in milliseconds. */
  record(ms: number): void {
    const v = Math.max(ms, MIN_MS);
    const i = Math.min(BUCKETS - 1, Math.ceil(Math.log(v / MIN_MS) / LOG_GROWTH));
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.#count += 1;
    this.#sum += ms;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
  }

  get count(): number {
    return this.#count;
  }

  /** The latency at quantile `q` (0..1): the upper bound of its bucket, clamped to the exact max. */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, MIN_MS * GROWTH ** i));
    }
    return this.#max;
  }

  /** Count, min, mean, p50, p90, p99, max (ms, rounded to µs). */
  summary(): LatencySummary {
    const r = (n: number) => Math.round(n * 1000) / 1000;
    return {
      count: this.#count,
      min: r(this.#count ? this.#min : 0),
      mean: r(this.#count ? this.#sum / this.#count : 0),
      p50: r(this.quantile(0.5)),
      p90: r(this.quantile(0.9)),
      p99: r(this.quantile(0.99)),
      max: r(this.#max),
    };
  }

  /** Adds another histogram's counts into this one. */
  merge(other: Histogram | HistogramJson): this {
    const json = other instanceof Histogram ? other.toJSON() : other;
    for (const [i, n] of json.buckets) {
      if (!Number.isInteger(i) || i < 0 || i >= BUCKETS) continue;
      this.#counts[i] = (this.#counts[i] ?? 0) + n;
    }
    this.#count += json.count;
    this.#sum += json.sum;
    if (json.count > 0) {
      this.#min = Math.min(this.#min, json.min);
      this.#max = Math.max(this.#max, json.max);
    }
    return this;
  }

  /** The sparse wire form (only non-empty buckets). */
  toJSON(): HistogramJson {
    const buckets: [number, number][] = [];
    this.#counts.forEach((n, i) => { if (n > 0) buckets.push([i, n]); });
    return { buckets, min: this.#count ? this.#min : 0, max: this.#max, sum: this.#sum, count: this.#count };
  }

  /** Rebuilds a histogram from its wire form. */
  static fromJSON(json: HistogramJson): Histogram {
    return new Histogram().merge(json);
  }
}
