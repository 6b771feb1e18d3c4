import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisStatement, REDACTED, scrubAttribute, spanContextOf, traceparentOf, tracingWanted, TRACEPARENT_PATTERN } from '../src/index.js';

test('tracing is on only when OTEL_TRACES_EXPORTER names an exporter and the SDK is not disabled', () => {
  assert.equal(tracingWanted({}), false);
  assert.equal(tracingWanted({ OTEL_TRACES_EXPORTER: '' }), false);
  assert.equal(tracingWanted({ OTEL_TRACES_EXPORTER: 'none' }), false);
  assert.equal(tracingWanted({ OTEL_TRACES_EXPORTER: 'none, none' }), false);
  assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), false, 'an endpoint alone does not turn it on');
  assert.equal(tracingWanted({ OTEL_TRACES_EXPORTER: 'otlp' }), true);
  assert.equal(tracingWanted({ OTEL_TRACES_EXPORTER: 'OTLP,console' }), true);
  assert.equal(tracingWanted({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'TRUE' }), false);
  assert.equal(tracingWanted({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'false' }), true);
});

test('attributes lose query strings, channel ids and credential-looking strings', () => {
  assert.equal(scrubAttribute('url.full', 'https://api.example/api/v2/notifications/channels/streaming-0-abc123/subscriptions?ignoreErrors=true'), 'https://api.example/api/v2/notifications/channels/{id}/subscriptions');
  assert.equal(scrubAttribute('http.target', '/console/callback?code=abc&state=x'), '/console/callback');
  assert.equal(scrubAttribute('http.url', 'wss://streaming.example/channels/streaming-0-secret'), 'wss://streaming.example/channels/{id}');
  assert.equal(scrubAttribute('url.query', 'code=abc'), REDACTED);
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJlc2lnbmF0dXJl';
  assert.equal(scrubAttribute('gtb.note', `token ${jwt}`), `token ${REDACTED}`);
  assert.equal(scrubAttribute('gtb.note', 'x'.repeat(64)), REDACTED);
  assert.equal(scrubAttribute('gtb.token.fingerprint', 'cd5ecaad7b75'), 'cd5ecaad7b75');
  assert.equal(scrubAttribute('gtb.profile', 'sales'), 'sales');
  assert.equal(scrubAttribute('gtb.fence', 7), 7);
  assert.deepEqual(scrubAttribute('list', ['a', jwt]), ['a', REDACTED]);
});

test('a Redis command shows its key, never its values', () => {
  assert.equal(redisStatement('set', ['gtb:{sales}:lock', 'uuid', 'NX', 'PX', 15000]), 'set gtb:{sales}:lock [4 other arguments]');
  assert.equal(redisStatement('get', ['k']), 'get k');
  assert.equal(redisStatement('evalsha', ['0123456789abcdef0123456789abcdef01234567', 2, 'gtb:{sales}:token', 'gtb:{sales}:fence', 'v1.k1.ciphertext', 3]), 'evalsha gtb:{sales}:token');
  assert.equal(redisStatement('eval', ['return 1', 0]), 'eval');
  assert.equal(redisStatement('ping', []), 'ping');
});

test('traceparent round trip; malformed ones give no context', () => {
  const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const ctx = spanContextOf(tp);
  assert.deepEqual(ctx, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
  assert.equal(traceparentOf(ctx), tp);
  assert.match(tp, TRACEPARENT_PATTERN);
  for (const bad of [undefined, 42, '', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331', `00-${'0'.repeat(32)}-b7ad6b7169203331-01`]) assert.equal(spanContextOf(bad), undefined);
  assert.equal(traceparentOf(undefined), undefined);
});
