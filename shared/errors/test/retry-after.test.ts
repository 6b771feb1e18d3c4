import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetryAfter } from '../src/index.js';

test('Retry-After: delta-seconds, an HTTP date, and nothing for what is absent or unreadable', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  assert.equal(parseRetryAfter('7', now), 7);
  assert.equal(parseRetryAfter(' 120 ', now), 120);
  assert.equal(parseRetryAfter('Mon, 30 Nov 2026 12:00:09 GMT', now), 9);
  assert.equal(parseRetryAfter('Mon, 30 Nov 2026 11:59:00 GMT', now), 0, 'a date in the past is no wait, never negative');
  assert.equal(parseRetryAfter(null, now), undefined);
  assert.equal(parseRetryAfter('', now), undefined);
  assert.equal(parseRetryAfter('  ', now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter('-5', now), undefined);
});
