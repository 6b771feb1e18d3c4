// The broker's traces, from an in-memory exporter registered in this test process (each test file
// runs in its own process, so the SDK here is this file's alone): two real replicas on one Redis,
// the sandbox as Genesys and the test IdP, every request sent with the caller's own traceparent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTracing } from '@gtb/tracing/sdk';
import { withServerSpans } from '@gtb/tracing';
import { createKeys } from '@gtb/redis';
import { parseEvent } from '@gtb/events';
import { startReplica, startSystem, CLIENTS, type TestSystem } from '../../../test/support/system.js';
import { waitFor } from '../../../test/support/wait.js';

const exporter = new InMemorySpanExporter();
const tracing = startTracing({ serviceName: 'gtb-broker-test', exporter, require: createRequire(import.meta.url) });

/** A caller that traces itself: a fetch the test's own instrumentation leaves alone, with its traceparent. */
function callerTrace(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

async function getToken(url: string, bearer: string, traceparent: string, profile = 'sales'): Promise<Response> {
  return context.with(suppressTracing(context.active()), () => fetch(`${url}/v1/tokens/${profile}`, { headers: { authorization: `Bearer ${bearer}`, traceparent } }));
}

const inTrace = (traceId: string) => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const parentOf = (spans: ReadableSpan[], span: ReadableSpan) => spans.find((p) => p.spanContext().spanId === span.parentSpanContext?.spanId);
/** The names of a span's ancestors, nearest first. */
function ancestry(spans: ReadableSpan[], span: ReadableSpan): string[] {
  const names: string[] = [];
  for (let p = parentOf(spans, span); p && names.length < 50; p = parentOf(spans, p)) names.push(p.name);
  return names;
}
/** The broker's HTTP server span of a trace: the one whose parent is the caller's span. */
const serverSpan = (spans: ReadableSpan[], caller: { spanId: string }) => spans.find((s) => s.kind === 1 && s.parentSpanContext?.spanId === caller.spanId);

let sys: TestSystem;
const secrets: string[] = [];

test.before(async () => {
  // The sandbox opens server spans as the broker does, so that one trace reaches "Genesys".
  sys = await startSystem({ profiles: ['sales', 'support'], wrapSandbox: withServerSpans });
});
test.after(async () => {
  await sys.close();
  await tracing.shutdown();
});

test('a cold miss across two replicas: one mint, in the first caller\'s trace; the other replica\'s request links to it', async (t) => {
  const b = await startReplica(sys);
  t.after(() => b.stop());
  const bearer = await sys.tokenFor('app');
  secrets.push(bearer);
  // The mint takes 600 ms at "Genesys", so that the second caller surely finds the lock held.
  sys.sandbox.admin.injectFault({ type: 'latency', ms: 600, route: '/oauth/token' });
  t.after(() => sys.sandbox.admin.clearFaults());
  const first = callerTrace();
  const second = callerTrace();
  const lockKey = createKeys(sys.prefix).lock('sales');
  const answerA = getToken(sys.broker.url, bearer, first.traceparent);
  await waitFor('replica A to hold the mint lock', async () => (await sys.redis.exists(lockKey)) === 1, { intervalMs: 5 });
  const answerB = getToken(b.url, bearer, second.traceparent);
  const [a, bAnswer] = await Promise.all([answerA, answerB]);
  assert.equal(a.status, 200);
  assert.equal(bAnswer.status, 200);
  const tokenA = (await a.json()) as { access_token: string; fingerprint: string };
  const tokenB = (await bAnswer.json()) as { access_token: string; fingerprint: string };
  assert.equal(tokenA.fingerprint, tokenB.fingerprint);
  secrets.push(tokenA.access_token);
  await tracing.flush();

  // One mint in the whole run so far, in the first caller's trace, under the lock holder's span.
  const mints = named(exporter.getFinishedSpans(), 'gtb.upstream.mint');
  assert.equal(mints.length, 1);
  const spansA = inTrace(first.traceId);
  const mint = mints[0]!;
  assert.equal(mint.spanContext().traceId, first.traceId, 'the mint is in the first caller\'s trace');
  assert.deepEqual(ancestry(spansA, mint).slice(0, 2), ['gtb.lock.hold', 'gtb.token.lookup']);
  // The caller's traceparent is honoured: the broker's server span is the caller's span's child.
  const serverA = serverSpan(spansA, first);
  assert.ok(serverA, 'the broker\'s server span continues the caller\'s trace');
  assert.ok(ancestry(spansA, mint).includes(serverA.name));
  for (const name of ['gtb.identity.verify', 'gtb.policy.decide', 'gtb.token.lookup', 'gtb.token.l2_read', 'gtb.lock.acquire', 'gtb.lock.hold', 'gtb.upstream.attempt', 'gtb.token.fenced_write']) {
    assert.ok(named(spansA, name).length > 0, `${name} in the minting trace (${[...new Set(spansA.map((s) => s.name))].join(', ')})`);
  }
  assert.equal(named(spansA, 'gtb.identity.verify')[0]!.attributes['gtb.identity.cache_hit'], false);
  assert.equal(named(spansA, 'gtb.policy.decide')[0]!.attributes['gtb.policy.rule'], 'sales-apps');
  assert.equal(named(spansA, 'gtb.lock.acquire')[0]!.attributes['gtb.lock.acquired'], true);
  const hold = named(spansA, 'gtb.lock.hold')[0]!;
  assert.equal(hold.attributes['gtb.mint.outcome'], 'ok');
  assert.equal(hold.attributes['gtb.token.fingerprint'], tokenA.fingerprint);
  assert.equal(mint.attributes['gtb.mint.attempts'], 1);
  assert.equal(named(spansA, 'gtb.token.fenced_write')[0]!.attributes['gtb.write.accepted'], true);
  // One trace from the app to Genesys: the sandbox's server span for POST /oauth/token is in it, under the attempt.
  const attempt = named(spansA, 'gtb.upstream.attempt')[0]!;
  const genesys = spansA.find((s) => s.kind === 1 && ancestry(spansA, s).includes('gtb.upstream.attempt'));
  assert.ok(genesys, 'the sandbox\'s server span is in the trace, below the attempt');
  assert.ok(ancestry(spansA, genesys).includes(attempt.name));
  // Redis commands are in it too (ioredis instrumentation), by command and key only.
  const redisSpans = spansA.filter((s) => s.instrumentationScope.name.includes('ioredis'));
  assert.ok(redisSpans.length > 0, 'Redis spans in the trace');

  // The second replica: no mint, a wait for the lock linked to the holder's span, woken by the ready message.
  const spansB = inTrace(second.traceId);
  assert.equal(named(spansB, 'gtb.upstream.mint').length, 0);
  const wait = named(spansB, 'gtb.lock.wait');
  assert.equal(wait.length, 1, `one lock wait in the second trace (${[...new Set(spansB.map((s) => s.name))].join(', ')})`);
  assert.deepEqual(wait[0]!.links.map((l) => [l.context.traceId, l.context.spanId]), [[first.traceId, hold.spanContext().spanId]]);
  assert.ok(wait[0]!.events.some((e) => e.name === 'gtb.waiter.woken'));
  assert.equal(named(spansB, 'gtb.lock.acquire')[0]!.attributes['gtb.lock.acquired'], false);

  // The lifecycle event of the mint carries the minting trace's traceparent (CloudEvents distributed tracing).
  const entries = await sys.redis.xrange(createKeys(sys.prefix).lifecycleStream(), '-', '+');
  const minted = entries.map(([, fields]) => parseEvent(fields[1]!)).find((e) => e.type === 'token.minted');
  assert.ok(minted?.traceparent, 'token.minted has a traceparent');
  assert.equal(minted.traceparent.split('-')[1], first.traceId);
});

test('a hit: the request\'s server span alone, annotated; no lookup, no lock, no mint', async () => {
  const bearer = await sys.tokenFor('app');
  // Warm this replica's verified-token cache and L1 (the previous test did; once more does no harm).
  assert.equal((await getToken(sys.broker.url, bearer, callerTrace().traceparent)).status, 200);
  const caller = callerTrace();
  const res = await getToken(sys.broker.url, bearer, caller.traceparent);
  assert.equal(res.status, 200);
  const { fingerprint } = (await res.json()) as { fingerprint: string };
  await tracing.flush();
  const spans = inTrace(caller.traceId);
  const server = serverSpan(spans, caller);
  assert.ok(server);
  assert.equal(server.attributes['gtb.token.source'], 'l1');
  assert.equal(server.attributes['gtb.identity.cache_hit'], true);
  assert.equal(server.attributes['gtb.policy.rule'], 'sales-apps');
  assert.equal(server.attributes['gtb.token.fingerprint'], fingerprint);
  for (const name of ['gtb.token.lookup', 'gtb.lock.acquire', 'gtb.upstream.mint', 'gtb.token.l2_read']) assert.equal(named(spans, name).length, 0, name);
});

test('a throttled mint: the attempt fails with ERR_UPSTREAM_THROTTLED, the holder records the cooldown; the next caller meets the cooldown', async (t) => {
  const bearer = await sys.tokenFor('app');
  sys.sandbox.admin.injectFault({ type: 'token-throttle', count: 100 });
  t.after(() => sys.sandbox.admin.clearFaults());
  const caller = callerTrace();
  const res = await getToken(sys.broker.url, bearer, caller.traceparent, 'support');
  assert.equal(res.status, 503);
  assert.equal(((await res.json()) as { code: string }).code, 'ERR_UPSTREAM_THROTTLED');
  const next = callerTrace();
  assert.equal((await getToken(sys.broker.url, bearer, next.traceparent, 'support')).status, 503);
  await tracing.flush();
  const spans = inTrace(caller.traceId);
  const mint = named(spans, 'gtb.upstream.mint');
  assert.equal(mint.length, 1);
  assert.equal(mint[0]!.status.code, 2);
  assert.equal(mint[0]!.attributes['gtb.error.code'], 'ERR_UPSTREAM_THROTTLED');
  assert.equal(mint[0]!.attributes['gtb.mint.attempts'], 1, 'a throttle is not retried');
  const hold = named(spans, 'gtb.lock.hold')[0]!;
  assert.equal(hold.attributes['gtb.mint.outcome'], 'throttled');
  assert.ok(Number(hold.attributes['gtb.cooldown.seconds']) >= 1);
  const after = inTrace(next.traceId);
  assert.equal(named(after, 'gtb.upstream.mint').length, 0, 'no call to Genesys during the cooldown');
  const lookup = named(after, 'gtb.token.lookup')[0]!;
  assert.ok(Number(lookup.attributes['gtb.cooldown.remaining_ms']) > 0);
  assert.equal(lookup.attributes['gtb.error.code'], 'ERR_UPSTREAM_THROTTLED');
});

test('no span of this run holds a token, a client secret, an IdP token or the cache key', async () => {
  await tracing.flush();
  const spans = exporter.getFinishedSpans();
  assert.ok(spans.length > 50, `spans recorded: ${spans.length}`);
  const config = sys.rawConfig as { profiles: { clientSecret: string }[]; encryption: { keys: { key: string }[] } };
  const needles = [...secrets, ...config.profiles.map((p) => p.clientSecret), ...config.encryption.keys.map((k) => k.key), ...Object.values(CLIENTS).map((c) => c.client_secret)];
  assert.ok(needles.length >= 6);
  for (const span of spans) {
    const text = JSON.stringify({ name: span.name, attributes: span.attributes, events: span.events, links: span.links, status: span.status, resource: span.resource.attributes });
    for (const needle of needles) assert.ok(!text.includes(needle), `span ${span.name} holds a secret`);
  }
});
