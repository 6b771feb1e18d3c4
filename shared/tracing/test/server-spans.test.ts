// The server spans of withServerSpans (server-spans.ts) with the SDK as the services start it, and a
// parent-based sampler that samples no root: a request is traced exactly when its caller's
// traceparent says sampled, and then with the request's attributes, Express' route and the status;
// an unsampled request records nothing, not even the spans its handler starts (they are children of
// its unsampled span, not new roots). Before the SDK starts, the listener is called through as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type RequestListener } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { context, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { InMemorySpanExporter, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { startTracing } from '../src/sdk.js';
import { inSpan, SERVER_SPAN_SCOPE, SpanKind, SpanStatusCode, tracerOf, withServerSpans } from '../src/index.js';

const SAMPLED = (traceId: string) => `00-${traceId}-b7ad6b7169203331-01`;
const UNSAMPLED = (traceId: string) => `00-${traceId}-b7ad6b7169203331-00`;

async function listen(listener: RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('server spans: a pass-through before the SDK starts; then sampled by the caller, with attributes, route and status; nothing for unsampled requests', async (t) => {
  const activeDuringRequest: (string | undefined)[] = [];
  // Outside the SDK's instrumentation of fetch: the test's own requests are not traced themselves.
  const get = (url: string, headers: Record<string, string> = {}) => context.with(suppressTracing(context.active()), () => fetch(url, { headers }));

  // Before tracing starts: called through, no span is active.
  const plain = await listen(withServerSpans((_req, res) => {
    activeDuringRequest.push(trace.getActiveSpan()?.spanContext().traceId);
    res.end('ok');
  }));
  t.after(() => plain.close());
  assert.equal((await get(`${plain.url}/items/1`, { traceparent: SAMPLED('2cf7651916cd43dd8448eb211c80319e') })).status, 200);
  assert.equal(activeDuringRequest.length, 1);
  assert.equal(activeDuringRequest[0], undefined);

  const exporter = new InMemorySpanExporter();
  const tracing = startTracing({
    serviceName: 'gtb-test', exporter, require: createRequire(import.meta.url),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) }),
  });
  t.after(() => tracing.shutdown());
  // Made once the SDK runs: the Express instrumentation wraps the layers as they are created.
  const app = express();
  app.get('/items/:id', async (_req, res) => {
    activeDuringRequest.push(trace.getActiveSpan()?.spanContext().traceId);
    await inSpan(tracerOf('gtb.test'), 'gtb.test.work', {}, async () => undefined);
    res.json({ ok: true });
  });
  app.get('/broken', (_req, res) => { res.status(503).json({ error: 'down' }); });
  const server = await listen(withServerSpans(app));
  t.after(() => server.close());

  const sampledTrace = '0af7651916cd43dd8448eb211c80319c';
  const unsampledTrace = '1bf7651916cd43dd8448eb211c80319d';
  assert.equal((await get(`${server.url}/items/42?code=secret-query`, { traceparent: SAMPLED(sampledTrace), 'user-agent': 'server-spans-test' })).status, 200);
  assert.equal((await get(`${server.url}/items/43`, { traceparent: UNSAMPLED(unsampledTrace) })).status, 200);
  assert.equal((await get(`${server.url}/items/44`)).status, 200);
  assert.equal((await get(`${server.url}/broken`, { traceparent: SAMPLED(sampledTrace) })).status, 503);
  assert.equal((await get(`${server.url}/healthz`, { traceparent: SAMPLED(sampledTrace) })).status, 404);
  // A Host naming an IPv6 literal (fetch cannot set Host; node:http can).
  const ipv6Status = await context.with(suppressTracing(context.active()), () => new Promise<number | undefined>((resolve, reject) => {
    request(`${server.url}/items/45`, { headers: { host: '[::1]:8443', traceparent: SAMPLED(sampledTrace) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    }).on('error', reject).end();
  }));
  assert.equal(ipv6Status, 200);
  await tracing.flush();

  const spans = exporter.getFinishedSpans();
  const names = spans.map((s) => `${s.instrumentationScope.name}:${s.name}`).join(', ');
  // Every request ran in its span's context: the two with a traceparent in the caller's trace, the
  // one without in a new (unsampled) trace.
  assert.equal(activeDuringRequest.length, 5);
  assert.equal(activeDuringRequest[1], sampledTrace);
  assert.equal(activeDuringRequest[2], unsampledTrace);
  assert.ok(activeDuringRequest[3] && activeDuringRequest[3] !== sampledTrace && activeDuringRequest[3] !== unsampledTrace);
  // Only the sampled trace left the process: nothing of the unsampled requests, their handlers' spans included.
  assert.deepEqual([...new Set(spans.map((s) => s.spanContext().traceId))], [sampledTrace], names);
  const servers = spans.filter((s) => s.instrumentationScope.name === SERVER_SPAN_SCOPE);
  assert.equal(servers.length, 3, `one server span per sampled request, none for the probe (${names})`);
  for (const s of servers) assert.equal(s.kind, SpanKind.SERVER);

  const item = servers.find((s) => s.attributes['url.path'] === '/items/42');
  assert.ok(item, names);
  assert.equal(item.name, 'GET /items/:id');
  assert.equal(item.parentSpanContext?.spanId, 'b7ad6b7169203331', "the caller's span is the parent");
  assert.equal(item.attributes['http.request.method'], 'GET');
  assert.equal(item.attributes['http.route'], '/items/:id');
  assert.equal(item.attributes['http.response.status_code'], 200);
  assert.equal(item.attributes['url.scheme'], 'http');
  assert.equal(item.attributes['server.address'], '127.0.0.1');
  assert.equal(typeof item.attributes['server.port'], 'number');
  assert.equal(item.attributes['user_agent.original'], 'server-spans-test');
  assert.equal(item.status.code, SpanStatusCode.UNSET);
  assert.ok(!JSON.stringify(spans.map((s) => s.attributes)).includes('secret-query'), 'no query string in any attribute');
  // The handler's span is below the server span (through Express' request handler span).
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const ancestors = (id: string | undefined): string[] => {
    const s = id === undefined ? undefined : byId.get(id);
    return s ? [s.spanContext().spanId, ...ancestors(s.parentSpanContext?.spanId)] : [];
  };
  const work = spans.find((s) => s.name === 'gtb.test.work');
  assert.ok(work && ancestors(work.parentSpanContext?.spanId).includes(item.spanContext().spanId), `the handler's span is below the server span (${names})`);

  const ipv6 = servers.find((s) => s.attributes['url.path'] === '/items/45');
  assert.equal(ipv6?.attributes['server.address'], '::1');
  assert.equal(ipv6?.attributes['server.port'], 8443);

  const broken = servers.find((s) => s.attributes['url.path'] === '/broken');
  assert.ok(broken, names);
  assert.equal(broken.attributes['http.response.status_code'], 503);
  assert.equal(broken.status.code, SpanStatusCode.ERROR);
});
