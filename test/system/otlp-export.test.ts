// Tracing end to end as an operator turns it on: two broker processes and a streamer process started
// with OTEL_TRACES_EXPORTER=otlp and an endpoint (the default protocol, http/protobuf) export to an
// OTLP/HTTP receiver in this test, which decodes what arrives with protobufjs. A cold storm across the
// brokers gives one mint span, in one replica's trace, and the other replica's waits link to it; a
// rotation makes the streamer roll over, one trace from the trigger to the new socket; its lease
// continues into the broker's trace across processes; nothing secret is in any span that left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { fingerprint } from '@gtb/logger';
import protobuf from 'protobufjs';
import { startCluster, type Cluster } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';
import { CLIENTS } from '../support/system.js';
import { collectLines } from '../support/child-handle.js';
import { STREAMING_SANDBOX, streamerConfigFor, streamerTiming } from '../support/streamer-harness.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The part of the OTLP trace protocol (opentelemetry/proto/collector/trace/v1) this test reads; field numbers are the protocol's. */
const OTLP = protobuf.parse(`
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; bytes bytes_value = 7; } }
message ArrayValue { repeated AnyValue values = 1; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; int32 kind = 6;
  fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
  repeated Event events = 11; repeated Link links = 13; Status status = 15;
}
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
message Link { bytes trace_id = 1; bytes span_id = 2; }
message Status { string message = 2; int32 code = 3; }
`).root.lookupType('otlp.ExportTraceServiceRequest');

interface ReceivedSpan {
  service: string;
  pid: string;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  events: string[];
  statusCode: number;
}

type Json = Record<string, unknown>;
const hex = (b: unknown) => (typeof b === 'string' ? Buffer.from(b, 'base64').toString('hex') : '');
function valueOf(v: Json | undefined): unknown {
  if (!v) return undefined;
  if ('arrayValue' in v) return ((v.arrayValue as Json).values as Json[] | undefined ?? []).map(valueOf);
  return v.stringValue ?? v.boolValue ?? (v.intValue === undefined ? undefined : Number(v.intValue)) ?? v.doubleValue;
}
const attributesOf = (list: Json[] | undefined) => Object.fromEntries((list ?? []).map((kv) => [kv.key as string, valueOf(kv.value as Json)]));

/** Decodes one export request into flat spans. */
function decode(body: Buffer): ReceivedSpan[] {
  const request = OTLP.toObject(OTLP.decode(body), { bytes: String, longs: String, defaults: true }) as { resourceSpans: Json[] };
  return request.resourceSpans.flatMap((rs) => {
    const resource = attributesOf((rs.resource as Json | undefined)?.attributes as Json[]);
    return (rs.scopeSpans as Json[]).flatMap((ss) => (ss.spans as Json[]).map((s) => ({
      service: String(resource['service.name']),
      pid: String(resource['process.pid']),
      scope: String((ss.scope as Json | undefined)?.name ?? ''),
      traceId: hex(s.traceId),
      spanId: hex(s.spanId),
      parentSpanId: hex(s.parentSpanId),
      name: String(s.name),
      kind: Number(s.kind),
      attributes: attributesOf(s.attributes as Json[]),
      links: ((s.links as Json[]) ?? []).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
      events: ((s.events as Json[]) ?? []).map((e) => String(e.name)),
      statusCode: Number((s.status as Json | undefined)?.code ?? 0),
    })));
  });
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

test('OTEL_TRACES_EXPORTER=otlp: a cold storm across two broker processes and a streamer rollover arrive at an OTLP/HTTP receiver as complete traces', { timeout: 150_000 }, async (t) => {
  const received: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  const receiver = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      contentTypes.add(String(req.headers['content-type']));
      if (req.method === 'POST' && req.url === '/v1/traces') received.push(...decode(body));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    }, () => res.writeHead(400).end());
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => receiver.close(() => r())));
  const endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;

  const otel = { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' };
  const { port: _p, adminKey: _a, ...streaming } = STREAMING_SANDBOX;
  const cluster: Cluster = await startCluster({ replicas: 2, brokerEnv: { ...otel, OTEL_SERVICE_NAME: 'gtb-broker' }, sandbox: streaming });
  t.after(() => cluster.close());
  // "Genesys" takes 800 ms to mint, so that both replicas' callers meet the lock.
  cluster.sandbox.admin.injectFault({ type: 'latency', ms: 800, route: '/oauth/token' });
  const bearer = await cluster.tokenFor('app');
  const answers = await Promise.all(cluster.brokers.flatMap((b) => Array.from({ length: 8 }, () =>
    fetch(`${b.url}/v1/tokens/sales`, { headers: { authorization: `Bearer ${bearer}` } }).then(async (res) => ({ status: res.status, body: (await res.json()) as { access_token: string } })))));
  assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
  assert.equal(new Set(answers.map((a) => a.body.access_token)).size, 1);
  assert.equal(cluster.mints(), 1);

  await waitFor('the mint and the other replica\'s waits to arrive', () => {
    const mint = received.find((s) => s.name === 'gtb.upstream.mint');
    return mint && received.some((s) => s.name === 'gtb.lock.wait' && s.pid !== mint.pid && s.links.length > 0);
  }, { timeoutMs: 30_000, intervalMs: 100 });
  cluster.sandbox.admin.clearFaults();

  // A streamer process on the same brokers, then a rotation: it rolls over (token_rotated).
  const dir = await mkdtemp(join(tmpdir(), 'gtb-otlp-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'streamer.json');
  await writeFile(file, JSON.stringify(streamerConfigFor({
    instanceId: 'otlp-streamer', redis: { mode: 'standalone', url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }, keyPrefix: cluster.prefix,
    brokerUrl: cluster.brokers[0]!.url, issuer: cluster.idp.issuer, ownerLockTtlMs: 1_500, dedupeWindowMs: 120_000,
    timing: streamerTiming({ heartbeatTimeoutMs: 1_500, pongTimeoutMs: 1_000, connectTimeoutMs: 10_000 }),
    streams: [{ name: 'queues', profile: 'sales', topics: ['v2.routing.queues.q1.conversations'] }],
  })), { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GTB_') && !k.startsWith('NODE_TEST')) env[k] = v;
  const streamer = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(ROOT, 'services/streamer/src/main.ts')], {
    cwd: ROOT, env: { ...env, ...otel, OTEL_SERVICE_NAME: 'gtb-streamer', GTB_STREAMER_CONFIG_FILE: file }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => streamer.once('exit', () => r()));
  t.after(async () => {
    streamer.kill('SIGKILL');
    await exited;
  });
  const lines: string[] = [];
  let opsPort = 0;
  const onLine = (line: string) => {
    if (line.includes('"streamer listening"')) opsPort = Number((JSON.parse(line) as { port: number }).port);
  };
  collectLines(streamer.stdout, lines, onLine);
  collectLines(streamer.stderr, lines, onLine);
  await waitFor('the streamer to receive', async () => opsPort > 0 && (await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status === 200, { timeoutMs: 30_000, intervalMs: 200 })
    .catch((err: unknown) => { throw new Error(`${(err as Error).message}\n${lines.slice(-20).join('\n')}`); });
  const admin = await cluster.tokenFor('admin');
  const rotated = await fetch(`${cluster.brokers[1]!.url}/v1/profiles/sales/rotate`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
  assert.equal(rotated.status, 200);
  const rotatedToken = ((await rotated.json()) as { access_token: string }).access_token;
  await waitFor('the streamer\'s token_rotated rollover to arrive', () => received.some((s) => s.name === 'gtb.streamer.rollover' && s.attributes['gtb.rollover.trigger'] === 'token_rotated'), { timeoutMs: 30_000, intervalMs: 100 });
  await cluster.sandbox.admin.generateEvents({ topic: 'v2.routing.queues.q1.conversations', count: 20, ratePerSecond: 200 });
  await waitFor('a batch write to arrive', () => received.some((s) => s.name === 'gtb.streamer.batch_write'), { timeoutMs: 30_000, intervalMs: 100 });
  const channelIds = cluster.sandbox.admin.listChannels().map((c) => c.id);
  // Every process drains (SIGTERM), which flushes what its exporter still holds.
  streamer.kill('SIGTERM');
  await exited;
  await Promise.all(cluster.brokers.map((b) => b.stop()));

  assert.deepEqual([...contentTypes], ['application/x-protobuf'], 'the default protocol, http/protobuf');
  assert.deepEqual([...new Set(received.map((s) => s.service))].sort(), ['gtb-broker', 'gtb-streamer']);
  assert.equal(new Set(received.filter((s) => s.service === 'gtb-broker').map((s) => s.pid)).size, 2, 'spans from both broker processes');
  // Two mints in the run: the storm's (a miss) and the rotation's.
  const modeOf = (span: ReceivedSpan) => received.find((h) => h.spanId === span.parentSpanId && h.name === 'gtb.lock.hold')?.attributes['gtb.mint.mode'];
  const allMints = received.filter((s) => s.name === 'gtb.upstream.mint');
  assert.deepEqual(allMints.map(modeOf).sort(), ['miss', 'rotate']);
  const mints = allMints.filter((s) => modeOf(s) === 'miss');
  assert.equal(mints.length, 1, 'one mint span in the whole storm');
  const mint = mints[0]!;
  const minting = received.filter((s) => s.traceId === mint.traceId);
  const byId = new Map(minting.map((s) => [s.spanId, s]));
  const chain: string[] = [];
  for (let s = byId.get(mint.parentSpanId); s && chain.length < 40; s = byId.get(s.parentSpanId)) chain.push(s.name);
  assert.deepEqual(chain.slice(0, 2), ['gtb.lock.hold', 'gtb.token.lookup'], chain.join(' < '));
  const root = minting.find((s) => s.parentSpanId === '');
  assert.ok(root && root.kind === 2 && chain.at(-1) === root.name, `the trace starts at the broker's server span (${chain.join(' < ')})`);
  // Below the mint: the attempt and its HTTP POST to the login host (undici instrumentation, client kind).
  const attempt = minting.find((s) => s.name === 'gtb.upstream.attempt' && s.parentSpanId === mint.spanId);
  assert.ok(attempt);
  assert.ok(minting.some((s) => s.parentSpanId === attempt.spanId && s.kind === 3), 'the POST /oauth/token client span');
  assert.ok(minting.some((s) => s.scope.includes('ioredis')), 'Redis commands in the minting trace');
  const hold = minting.find((s) => s.name === 'gtb.lock.hold')!;

  // The other process's callers waited on the lock; each wait links to the holder's span.
  const waits = received.filter((s) => s.name === 'gtb.lock.wait' && s.pid !== mint.pid);
  assert.ok(waits.length >= 1);
  for (const wait of waits) {
    assert.deepEqual(wait.links, [{ traceId: mint.traceId, spanId: hold.spanId }]);
    assert.ok(wait.events.includes('gtb.waiter.woken'));
  }
  // Callers in the minting process joined its single flight.
  assert.ok(received.some((s) => s.name === 'gtb.single_flight.join' && s.pid === mint.pid && s.links.some((l) => l.traceId === mint.traceId)));

  // The streamer: its lease's trace continues into a broker process (one trace, two services).
  const lease = received.find((s) => s.name === 'gtb.streamer.lease');
  assert.ok(lease);
  assert.ok(received.some((s) => s.traceId === lease.traceId && s.service === 'gtb-broker' && s.name === 'gtb.policy.decide'), 'the broker\'s policy decision in the lease\'s trace');
  // The rollover: one trace from the trigger to the new socket, with the overlap; channels by fingerprint only.
  const rollover = received.find((s) => s.name === 'gtb.streamer.rollover' && s.attributes['gtb.rollover.trigger'] === 'token_rotated')!;
  const rolling = received.filter((s) => s.traceId === rollover.traceId);
  for (const name of ['gtb.streamer.connect', 'gtb.streamer.channel_create', 'gtb.streamer.subscribe', 'gtb.streamer.socket_connect', 'gtb.streamer.overlap']) {
    assert.ok(rolling.some((s) => s.name === name), `${name} in the rollover's trace (${[...new Set(rolling.map((s) => s.name))].join(', ')})`);
  }
  assert.ok(rolling.some((s) => s.kind === 3), 'the Genesys API calls (client spans) in the rollover\'s trace');
  assert.ok(channelIds.map((id) => fingerprint(id)).includes(String(rollover.attributes['gtb.channel.fingerprint'])));
  assert.ok(received.some((s) => s.name === 'gtb.streamer.batch_write' && s.service === 'gtb-streamer' && Number(s.attributes['gtb.batch.written']) > 0));

  const config = cluster.config as { profiles: { clientSecret: string }[]; encryption: { keys: { key: string }[] } };
  // Everything the sandbox handed out (every access token, client secret, channel id and connect URI), and ours.
  const issued = cluster.sandbox.admin.issuedSecrets();
  assert.ok(issued.channelIds.length >= 2 && issued.accessTokens.length >= 2);
  const needles = [...issued.accessTokens, ...issued.clientSecrets, ...issued.channelIds, ...issued.connectUris, rotatedToken, admin, CLIENTS.streamer.client_secret, answers[0]!.body.access_token, bearer, ...config.profiles.map((p) => p.clientSecret), ...config.encryption.keys.map((k) => k.key), ...Object.values(CLIENTS).map((c) => c.client_secret)];
  const text = JSON.stringify(received);
  for (const needle of needles) assert.ok(!text.includes(needle), 'a secret in an exported span');
});
