import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EVENT_TYPES, CLOUD_EVENT_SCHEMAS, cloudEventSchema, parseEvent, eventSource, secretLikeReason, createEventFilter, type EventType } from '../src/index.js';
import { SAMPLES } from './helpers.js';

function envelope(type: EventType, overrides: Record<string, unknown> = {}, data: unknown = SAMPLES[type].data) {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: '/gtb/broker/host-1',
    type,
    subject: SAMPLES[type].subject,
    time: '2029-01-01T00:00:00.000Z',
    datacontenttype: 'application/json',
    data,
    ...overrides,
  };
}

test('every lifecycle event type, all of them, each with a valid sample', () => {
  assert.deepEqual([...EVENT_TYPES].sort(), [
    'lease.expired', 'lease.granted', 'lease.released', 'lease.renewed',
    'stream.connected', 'stream.dropped', 'stream.failover', 'stream.gap', 'stream.gap_opened', 'stream.handshake_initiated', 'stream.rolled_over',
    'token.mint_failed', 'token.minted', 'token.rate_limited', 'token.revoked', 'token.rotated',
  ]);
  for (const type of EVENT_TYPES) {
    const event = envelope(type);
    assert.deepEqual(parseEvent(event), event, type);
    assert.deepEqual(parseEvent(JSON.stringify(event)), event, type);
    assert.ok(CLOUD_EVENT_SCHEMAS[type].safeParse(event).success, type);
    assert.ok(cloudEventSchema.safeParse(event).success, type);
  }
});

test('the envelope is checked', () => {
  const bad: Record<string, unknown>[] = [
    { specversion: '0.3' },
    { id: 'not-a-uuid' },
    { source: 'broker' },
    { source: '/gtb/broker' },
    { subject: 'other' }, // must match data.profile
    { subject: 'a b' },
    { time: 'yesterday' },
    { datacontenttype: 'text/plain' },
    { type: 'token.exploded' },
    { type: undefined },
    { extra: 1 },
  ];
  for (const overrides of bad) {
    assert.throws(() => parseEvent(envelope('token.minted', overrides)), { code: 'ERR_EVENT_INVALID' }, JSON.stringify(overrides));
    assert.equal(cloudEventSchema.safeParse(envelope('token.minted', overrides)).success, false, JSON.stringify(overrides));
  }
  for (const input of ['not json', '[]', 'null', '42', '{}', null, 7]) {
    assert.throws(() => parseEvent(input), { code: 'ERR_EVENT_INVALID' }, String(input));
  }
});

test('the distributed-tracing extension: a W3C traceparent, or none', () => {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const event = envelope('token.minted', { traceparent });
  assert.deepEqual(parseEvent(event), event);
  assert.ok(cloudEventSchema.safeParse(event).success);
  for (const bad of ['', 'x', '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', `00-${'0'.repeat(32)}-b7ad6b7169203331-01`,
    '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01', '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01', 42]) {
    assert.throws(() => parseEvent(envelope('token.minted', { traceparent: bad })), { code: 'ERR_EVENT_INVALID' }, String(bad));
  }
});

test('data is strict and typed per event type', () => {
  const cases: [EventType, unknown][] = [
    ['token.minted', { ...SAMPLES['token.minted'].data, access_token: 'x' }],
    ['token.minted', { ...SAMPLES['token.minted'].data, fingerprint: 'ABCDEF123456' }],
    ['token.minted', { ...SAMPLES['token.minted'].data, fingerprint: 'abc' }],
    ['token.minted', { ...SAMPLES['token.minted'].data, expiresAt: 1700000000 }],
    ['token.minted', { profile: 'sales' }],
    ['token.rotated', { ...SAMPLES['token.rotated'].data, fence: -1 }],
    ['token.rate_limited', { profile: 'sales', retryAfterSeconds: -5 }],
    ['token.mint_failed', { profile: 'sales', code: 'has space', message: 'm' }],
    ['lease.granted', { ...SAMPLES['lease.granted'].data, leaseId: '' }],
    ['stream.dropped', { ...SAMPLES['stream.dropped'].data, planned: 'yes' }],
    ['stream.dropped', { ...SAMPLES['stream.dropped'].data, closeCode: 99 }],
    ['stream.rolled_over', { ...SAMPLES['stream.rolled_over'].data, overlapMs: 1.5 }],
    // A channel goes by its fingerprint, never by its id (which opens its socket).
    ['stream.rolled_over', { ...SAMPLES['stream.rolled_over'].data, toChannelFingerprint: 'ch-2' }],
    ['stream.connected', { stream: 'queues', channelId: 'ch-1', connectionId: 'c-1' }],
    ['stream.gap', { ...SAMPLES['stream.gap'].data, from: '2030-01-01T00:00:00Z' }], // after `to`
    ['stream.gap_opened', { stream: 'queues', from: '2029-01-01T00:00:00Z', reason: 'drop' }], // no gapId
    ['stream.gap_opened', { ...SAMPLES['stream.gap_opened'].data, to: '2029-01-01T00:00:01Z' }], // an open gap has no end
    ['stream.failover', { stream: 'queues', toInstance: 'b' }],
    ['token.minted', 'a string'],
    ['token.minted', null],
  ];
  for (const [type, data] of cases) {
    assert.throws(() => parseEvent(envelope(type, {}, data)), { code: 'ERR_EVENT_INVALID' }, `${type} ${JSON.stringify(data)}`);
  }
});

test('token-looking values are refused anywhere in data, and never echoed', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
  const opaque = 'yDa5uUYLGmp-JE45Y8OaoTR8o8Bs-0dQJOAHTLsdVsRLhyOMdhGcQPSLGTTG3qxRiRcoZ8T0uv';
  const hex64 = 'a'.repeat(16) + '0123456789abcdef'.repeat(3);
  const secrets = [
    jwt,
    `upstream said: ${opaque}`,
    `Bearer ${'x'.repeat(20)}`,
    'authorization: basic dXNlcjpwYXNzd29yZA==',
    'wss://streaming.mypurecloud.com/channels/streaming-2-abc',
    'socket of streaming-2-aa5h48uk0srhpugh2994klj918 closed',
    'https://client:s3cret@login.example.com/',
    hex64,
  ];
  for (const secret of secrets) {
    assert.ok(secretLikeReason(secret), secret);
    const data = { ...SAMPLES['token.mint_failed'].data, message: secret };
    let caught: unknown;
    try {
      parseEvent(envelope('token.mint_failed', {}, data));
    } catch (err) {
      caught = err;
    }
    assert.equal((caught as { code?: string }).code, 'ERR_EVENT_SECRET_IN_DATA', secret);
    assert.ok(!JSON.stringify({ m: (caught as Error).message, d: (caught as { details?: unknown }).details }).includes(secret));
    assert.equal(CLOUD_EVENT_SCHEMAS['token.mint_failed'].safeParse(envelope('token.mint_failed', {}, data)).success, false);
  }
  // Under an unknown key too: the secret check runs before the strict schema.
  assert.throws(() => parseEvent(envelope('token.minted', {}, { ...SAMPLES['token.minted'].data, token: opaque })), { code: 'ERR_EVENT_SECRET_IN_DATA' });
  // What events legitimately carry is not mistaken for a secret.
  for (const ok of ['ba7816bf8f01', randomUUID(), 'streaming-2', '2029-01-01T00:00:00.000Z', 'rate limit exceeded', 'streamer-7c9d8f6b5-x2x4k']) {
    assert.equal(secretLikeReason(ok), undefined, ok);
  }
});

test('eventSource builds and checks /gtb/<process>/<instance>', () => {
  assert.equal(eventSource('broker', 'pod-1'), '/gtb/broker/pod-1');
  assert.throws(() => eventSource('bro ker', 'x'), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => eventSource('broker', ''), { code: 'ERR_CONFIG_INVALID' });
});

test('filters take exact types, groups and subjects, and refuse typos', () => {
  const ev = (type: EventType) => parseEvent(envelope(type));
  const f = createEventFilter(['token.*', 'stream.gap'], ['sales', 'queues']);
  assert.equal(f(ev('token.rotated')), true);
  assert.equal(f(ev('stream.gap')), true);
  assert.equal(f(ev('stream.connected')), false);
  assert.equal(f(ev('lease.granted')), false);
  assert.equal(createEventFilter(undefined, ['other'])(ev('token.rotated')), false);
  assert.equal(createEventFilter(['*'])(ev('lease.expired')), true);
  assert.throws(() => createEventFilter(['token.rotate']), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => createEventFilter(['tokens.*']), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => createEventFilter(undefined, ['a b']), { code: 'ERR_CONFIG_INVALID' });
});
