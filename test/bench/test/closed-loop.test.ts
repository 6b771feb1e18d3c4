// How the bench drives autocannon (lib/closed-loop.ts): bounds, status counts, where requests go.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runClosedLoop } from '../lib/closed-loop.js';
import { startCountingServer } from './counting-server.js';

test('a fixed-count closed loop sends exactly that many requests over its own connections and counts statuses', async (t) => {
  const srv = await startCountingServer(t);
  const result = await runClosedLoop({ urls: [`${srv.url}/x`], connections: 4, amount: 200, durationMs: 15_000 });
  assert.equal(result.requests, 200);
  assert.deepEqual(result.statuses, { '200': 200 });
  assert.equal(result.latency.count, 200);
  assert.equal(srv.requests(), 200);
  assert.ok(srv.connections() <= 4, `opened ${srv.connections()} connections`);
  assert.ok(result.rps > 0 && result.latency.max >= result.latency.p50);
});

test('a timed closed loop stops at its request cap and sends the configured headers', async (t) => {
  const srv = await startCountingServer(t);
  const result = await runClosedLoop({ urls: [`${srv.url}/x`], headers: { authorization: 'Bearer abc' }, connections: 2, durationMs: 10_000, maxRequests: 50 });
  assert.equal(result.requests, 50);
  assert.equal(srv.requests(), 50);
  assert.deepEqual(srv.authorizations(), new Set(['Bearer abc']));
});

test('the warm-up is not counted and non-200 answers are counted by status', async (t) => {
  const srv = await startCountingServer(t, 503);
  const result = await runClosedLoop({ urls: [srv.url], connections: 2, amount: 20, durationMs: 10_000, warmupMs: 100 });
  assert.deepEqual(result.statuses, { '503': 20 });
  assert.ok(srv.requests() > 20, 'the warm-up sent requests too');
});

test('connections spread over the URLs and cycle through the paths', async (t) => {
  const a = await startCountingServer(t);
  const b = await startCountingServer(t);
  const result = await runClosedLoop({ urls: [a.url, b.url], paths: ['/p/1', '/p/2'], connections: 4, amount: 40, durationMs: 15_000 });
  assert.equal(result.requests, 40);
  assert.equal(a.requests(), 20);
  assert.equal(b.requests(), 20);
  assert.deepEqual(a.paths(), new Map([['/p/1', 10], ['/p/2', 10]]));
});

test('a server nobody answers on: failures are counted as status 0 and the run stops at its duration', async () => {
  const result = await runClosedLoop({ urls: ['http://127.0.0.1:9/'], connections: 2, durationMs: 300, timeoutMs: 1000 });
  assert.equal(result.requests, 0);
  assert.ok((result.statuses['0'] ?? 0) > 0, JSON.stringify(result.statuses));
  assert.equal(typeof result.firstError, 'string');
});

test('nonsense options are refused with RangeError', async () => {
  await assert.rejects(runClosedLoop({ urls: ['http://127.0.0.1:9/'], connections: 0, durationMs: 1 }), RangeError);
  await assert.rejects(runClosedLoop({ urls: ['http://127.0.0.1:9/'], connections: 4, amount: 2, durationMs: 1 }), RangeError);
});
