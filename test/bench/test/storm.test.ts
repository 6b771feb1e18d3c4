// The cold-storm caller side (lib/storm.ts) and the latency histogram it sends to the runner.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepareStorm } from '../lib/storm.js';
import { encodeLatencies, latencyHistogram, mergeLatencies, recordMs, summarize } from '../lib/latency.js';
import { startCountingServer } from './counting-server.js';

test('a storm opens its connections first and then sends one request per caller over them', async (t) => {
  const srv = await startCountingServer(t);
  const storm = await prepareStorm({ url: `${srv.url}/token`, warmUrl: `${srv.url}/healthz`, callers: 25 });
  assert.equal(storm.warmed, 25);
  assert.equal(srv.connections(), 25);
  const result = await storm.fire();
  assert.equal(result.callers, 25);
  assert.deepEqual(result.statuses, { '200': 25 });
  assert.equal(srv.connections(), 25, 'the storm reused the warmed connections');
  assert.deepEqual(srv.paths(), new Map([['/healthz', 25], ['/token', 25]]));
  assert.equal(mergeLatencies([result.histogram]).totalCount, 25);
});

test('a storm against a closed port reports status 0 with the reason, without throwing', async () => {
  const storm = await prepareStorm({ url: 'http://127.0.0.1:9/token', warmUrl: 'http://127.0.0.1:9/healthz', callers: 3, timeoutMs: 2000 });
  assert.equal(storm.warmed, 0);
  const result = await storm.fire();
  assert.deepEqual(result.statuses, { '0': 3 });
  assert.equal(typeof result.firstError, 'string');
});

test('merged wire forms summarize like one histogram, within the histogram\'s 0.1 %', () => {
  const a = latencyHistogram();
  const b = latencyHistogram();
  for (let i = 1; i <= 1000; i++) recordMs(i % 2 ? a : b, i / 10); // 0.1 .. 100 ms
  const wire = JSON.parse(JSON.stringify([encodeLatencies(a), encodeLatencies(b)])) as string[];
  const s = summarize(mergeLatencies(wire));
  assert.equal(s.count, 1000);
  assert.equal(s.min, 0.1);
  for (const [got, want] of [[s.p50, 50], [s.p99, 99], [s.max, 100], [s.mean, 50.05]] as const) {
    assert.ok(Math.abs(got - want) / want <= 0.001, `${got} vs ${want}`);
  }
  assert.deepEqual(summarize(latencyHistogram()), { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
});
