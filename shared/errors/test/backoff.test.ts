import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, exponentialDelay } from '../src/index.js';

const options = { baseMs: 100, maxMs: 1_000 };

test('the delay doubles per attempt up to the cap, and a long outage stays at the cap', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((n) => exponentialDelay(n, options)), [100, 200, 400, 800, 1_000, 1_000]);
  assert.equal(exponentialDelay(10_000, options), 1_000);
  assert.equal(exponentialDelay(-1, options), 100);
});

test('the jittered delay is half fixed and half random, in whole ms', () => {
  assert.equal(backoffDelay(2, options, () => 0), 200);
  assert.equal(backoffDelay(2, options, () => 0.5), 300);
  assert.equal(backoffDelay(2, options, () => 0.999), 400);
  assert.equal(backoffDelay(9, options, () => 0.25), 625);
  // Default random: always within [half, all] of the capped delay.
  for (let n = 0; n < 200; n++) {
    const d = backoffDelay(n % 8, options);
    const cap = exponentialDelay(n % 8, options);
    assert.ok(Number.isInteger(d) && d >= cap / 2 && d <= cap, `${d} within [${cap / 2}, ${cap}]`);
  }
});
