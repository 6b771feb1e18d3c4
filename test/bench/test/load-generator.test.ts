import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { runClosedLoop } from '../lib/load-generator.js';
import { prepareStorm } from '../lib/storm.js';

async function server(t: TestContext, status = 200): Promise<{ url: string; connections: () => number; requests: () => number }> {
  let connections = 0;
  let requests = 0;
  const s: Server = createServer((_req, res) => { requests += 1; res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}'); });
  s.on('connection', () => { connections += 1; });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, connections: () => connections, requests: () => requests };
}

test('closed loop stops at its request cap, reuses its connections and counts statuses', async (t) => {
  const srv = await server(t);
  const result = await runClosedLoop({ url: `${srv.url}/x`, connections: 4, durationMs: 15_000, maxRequests: 200 });
  assert.equal(result.requests, 200);
  assert.deepEqual(result.statuses, { '200': 200 });
  assert.equal(result.latency.count, 200);
  assert.ok(srv.connections() <= 4, `opened ${srv.connections()} connections`);
  assert.ok(result.rps > 0);
});

test('closed loop stops at its duration and reports failures as status 0 without throwing', async () => {
  // A port nobody listens on: every request fails fast; the loop is bounded by time.
  const result = await runClosedLoop({ url: 'http://127.0.0.1:9/', connections: 2, durationMs: 300, maxRequests: 1_000_000 });
  assert.ok(result.durationMs < 5000);
  assert.equal(Object.keys(result.statuses).join(), '0');
  assert.equal(typeof result.firstError, 'string');
});

test('closed loop counts non-200 answers by status', async (t) => {
  const srv = await server(t, 503);
  const result = await runClosedLoop({ url: srv.url, connections: 2, durationMs: 10_000, maxRequests: 20, warmupMs: 50 });
  assert.deepEqual(result.statuses, { '503': 20 });
});

test('closed loop rejects nonsense options with RangeError', async () => {
  await assert.rejects(runClosedLoop({ url: 'http://127.0.0.1:9/', connections: 0, durationMs: 1, maxRequests: 1 }), RangeError);
});

test('a storm opens its connections first and then sends one request per caller over them', async (t) => {
  const srv = await server(t);
  const storm = await prepareStorm({ url: `${srv.url}/token`, warmUrl: `${srv.url}/healthz`, callers: 25 });
  t.after(() => storm.close());
  assert.equal(storm.warmed, 25);
  const opened = srv.connections();
  const result = await storm.fire();
  assert.equal(result.callers, 25);
  assert.deepEqual(result.statuses, { '200': 25 });
  assert.equal(srv.connections(), opened, 'the storm reused the warmed connections');
  assert.equal(srv.requests(), 50);
});
