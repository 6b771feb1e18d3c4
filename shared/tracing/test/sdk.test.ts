// The SDK as the services start it: instrumentations patch express, ioredis, node:http (out) and fetch, a
// server wrapped in withServerSpans opens server spans,
// even though the test file imported them (ESM) before the SDK started; the redacting processor
// scrubs what the instrumentations record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import express from 'express';
import { Redis } from 'ioredis';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { startTracing } from '../src/sdk.js';
import { inSpan, SERVER_SPAN_SCOPE, tracerOf, withServerSpans } from '../src/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

test('express, ioredis, node:http and fetch are traced; a caller traceparent is honoured; URLs are scrubbed', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing({ serviceName: 'gtb-test', exporter, require: createRequire(import.meta.url) });
  t.after(() => tracing.shutdown());
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect();
  const key = `gtb-tracing-test:${process.pid}`;
  t.after(async () => {
    await redis.del(key);
    await redis.quit();
  });

  const app = express();
  app.get('/channels/:id/subscriptions', async (_req, res) => {
    await redis.set(key, 'a-secret-value-that-must-not-appear');
    res.json({ ok: true });
  });
  const server = createServer(withServerSpans(app));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const { port } = server.address() as { port: number };

  const url = `http://127.0.0.1:${port}/channels/streaming-abcdef0123/subscriptions?code=xyz`;
  const outer = await inSpan(tracerOf('gtb.test'), 'outer', {}, async (span) => {
    assert.equal((await fetch(url)).status, 200);
    return span.spanContext().traceId;
  });
  // A caller that traces itself (here: a fetch the instrumentation does not see) sends its traceparent.
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const res = await context.with(suppressTracing(context.active()), () => fetch(url, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } }));
  assert.equal(res.status, 200);
  await tracing.flush();
  const spans = exporter.getFinishedSpans();
  const names = spans.map((s) => `${s.instrumentationScope.name}:${s.name}`);
  assert.ok(spans.some((s) => s.instrumentationScope.name === SERVER_SPAN_SCOPE && s.kind === 1), `an HTTP server span in ${names.join(', ')}`);
  assert.ok(spans.some((s) => s.instrumentationScope.name.includes('instrumentation-undici')), `a fetch span in ${names.join(', ')}`);
  assert.ok(spans.some((s) => s.instrumentationScope.name.includes('instrumentation-express')), `an express span in ${names.join(', ')}`);
  const set = spans.find((s) => s.instrumentationScope.name.includes('instrumentation-ioredis'));
  assert.ok(set, `an ioredis span in ${names.join(', ')}`);
  const everything = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes })));
  assert.ok(!everything.includes('a-secret-value'), 'no Redis value in any attribute');
  assert.ok(!everything.includes('streaming-abcdef0123'), 'no channel id in any attribute');
  assert.ok(!everything.includes('code=xyz'), 'no query string in any attribute');
  // The outgoing fetch carried the outer span's trace to the server; the second request's own traceparent was honoured.
  const serverTraces = spans.filter((s) => s.instrumentationScope.name === SERVER_SPAN_SCOPE && s.kind === 1).map((s) => s.spanContext().traceId);
  assert.deepEqual(serverTraces.sort(), [outer, traceId].sort());
});
