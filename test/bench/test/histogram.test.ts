import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram } from '../lib/histogram.js';

test('quantiles are within 1 % of the exact ones and clamped to min/max', () => {
  const h = new Histogram();
  for (let i = 1; i <= 1000; i++) h.record(i / 10); // 0.1 .. 100 ms
  const s = h.summary();
  assert.equal(s.count, 1000);
  assert.equal(s.min, 0.1);
  assert.equal(s.max, 100);
  assert.ok(Math.abs(s.p50 - 50) / 50 <= 0.011, `p50 ${s.p50}`);
  assert.ok(Math.abs(s.p99 - 99) / 99 <= 0.011, `p99 ${s.p99}`);
  assert.ok(Math.abs(s.mean - 50.05) < 1e-9);
});

test('an empty histogram summarizes to zeros', () => {
  assert.deepEqual(new Histogram().summary(), { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
});

test('merging wire forms equals recording everything in one', () => {
  const a = new Histogram();
  const b = new Histogram();
  const all = new Histogram();
  for (let i = 0; i < 500; i++) {
    const v = (i * 7.3) % 250;
    (i % 2 ? a : b).record(v);
    all.record(v);
  }
  const merged = Histogram.fromJSON(JSON.parse(JSON.stringify(a.toJSON()))).merge(b.toJSON());
  assert.deepEqual(merged.summary(), all.summary());
});

test('values outside the range land in the edge buckets instead of throwing', () => {
  const h = new Histogram();
  h.record(0);
  h.record(10_000_000);
  assert.equal(h.count, 2);
  assert.equal(h.summary().max, 10_000_000);
});
