/**
 * Latencies for every scenario, in an HdrHistogram (hdr-histogram-js, the implementation autocannon
 * records with): microseconds, 3 significant digits (0.1 %), memory bounded whatever the count. Its
 * compressed base64 form crosses the IPC channel, so the runner can merge the workers' histograms.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

export type { Histogram } from 'hdr-histogram-js';

/** What a result reports about latencies, in milliseconds (µs precision). */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** An empty histogram of microseconds (grows past its initial 10 min range rather than throwing). */
export function latencyHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

/** Records one latency given in (fractional) milliseconds. */
export function recordMs(histogram: Histogram, ms: number): void {
  histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
}

/** Count, min, mean, p50, p90, p99, max in ms. */
export function summarize(histogram: Histogram): LatencySummary {
  const count = histogram.totalCount;
  if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const ms = (us: number) => Math.round(us) / 1000;
  const max = histogram.maxValue;
  // A quantile is its bucket's highest equivalent value; never report it above the recorded max.
  const q = (p: number) => ms(Math.min(max, histogram.getValueAtPercentile(p)));
  return {
    count,
    min: ms(histogram.getValueAtPercentile(0)),
    mean: ms(histogram.mean),
    p50: q(50),
    p90: q(90),
    p99: q(99),
    max: ms(max),
  };
}

/** The wire form (compressed base64 of the HdrHistogram encoding). */
export function encodeLatencies(histogram: Histogram): string {
  return encodeIntoCompressedBase64(histogram);
}

/** One histogram holding every encoded histogram's values. */
export function mergeLatencies(encoded: Iterable<string>): Histogram {
  const all = latencyHistogram();
  for (const e of encoded) all.add(decodeFromCompressedBase64(e));
  return all;
}
