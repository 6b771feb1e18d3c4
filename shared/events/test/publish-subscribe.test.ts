import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createKeys, createRedis } from '@gtb/redis';
import { waitFor } from '../../../test/support/wait.js';
import { createEventPublisher, createEventSubscriber, parseEvent, readEvents, EVENT_TYPES, type AnyCloudEvent, type EventType } from '../src/index.js';
import { SAMPLES, captureLogger, connect, uniqueKeys } from './helpers.js';

const SOURCE = '/gtb/broker/test-1';

test('every event type round-trips through a real subscriber', async (t) => {
  const redis = await connect(t);
  const sub = await connect(t, 'events-sub');
  const keys = uniqueKeys(t);
  const { logger } = captureLogger();
  const fixed = Date.parse('2029-06-01T12:00:00.000Z');
  const publisher = createEventPublisher({ redis, keys, source: SOURCE, logger, now: () => fixed });
  const received: AnyCloudEvent[] = [];
  const errors: unknown[] = [];
  const subscriber = createEventSubscriber({ redis: sub, keys, onEvent: (e) => { received.push(e); }, onError: (e) => errors.push(e) });
  t.after(() => subscriber.close());
  await subscriber.start();

  const sent = [];
  for (const type of EVENT_TYPES) {
    const { subject, data } = SAMPLES[type];
    sent.push(await publisher.publish(type, subject, data as never));
  }
  await waitFor('all events', () => received.length === EVENT_TYPES.length, { intervalMs: 10 });
  assert.deepEqual(errors, []);
  for (const [i, type] of EVENT_TYPES.entries()) {
    const got = received[i]!;
    assert.equal(got.type, type);
    assert.equal(got.specversion, '1.0');
    assert.equal(got.source, SOURCE);
    assert.equal(got.subject, SAMPLES[type].subject);
    assert.equal(got.time, '2029-06-01T12:00:00.000Z');
    assert.equal(got.datacontenttype, 'application/json');
    assert.deepEqual(got.data, SAMPLES[type].data);
    assert.deepEqual(got, sent[i]);
  }
  // The same events are in the durable stream, in order.
  const stored = await readEvents({ redis, keys });
  assert.deepEqual(stored.map((s) => s.event), sent);
});

test('the subscriber filters by type and subject, and reports invalid messages', async (t) => {
  const redis = await connect(t);
  const sub = await connect(t, 'events-sub');
  const keys = uniqueKeys(t);
  const publisher = createEventPublisher({ redis, keys, source: SOURCE, logger: captureLogger().logger });
  const received: AnyCloudEvent[] = [];
  const errors: { code: string }[] = [];
  const subscriber = createEventSubscriber({
    redis: sub, keys, types: ['token.*'], subjects: ['sales'],
    onEvent: (e) => { received.push(e); },
    onError: (e) => { errors.push(e); },
  });
  t.after(() => subscriber.close());
  await subscriber.start();
  await redis.publish(keys.lifecycleChannel('token.minted'), 'not json');
  await redis.publish(keys.lifecycleChannel('token.minted'), JSON.stringify({ specversion: '1.0', type: 'token.minted', data: { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig' } }));
  await publisher.publish('lease.granted', 'sales', SAMPLES['lease.granted'].data);
  await publisher.publish('token.minted', 'other', { ...SAMPLES['token.minted'].data, profile: 'other' });
  const last = await publisher.publish('token.rotated', 'sales', SAMPLES['token.rotated'].data);
  await waitFor('the filtered event and two errors', () => received.length === 1 && errors.length === 2, { intervalMs: 10 });
  assert.equal(received[0]!.id, last.id);
  assert.deepEqual(errors.map((e) => e.code), ['ERR_EVENT_INVALID', 'ERR_EVENT_SECRET_IN_DATA']);
});

test('a plain redis-cli PSUBSCRIBE sees valid CloudEvents JSON', async (t) => {
  const redis = await connect(t);
  const keys = uniqueKeys(t);
  const publisher = createEventPublisher({ redis, keys, source: SOURCE, logger: captureLogger().logger });
  const cli = spawn('redis-cli', ['-h', '127.0.0.1', '-p', '6379', '--no-raw', 'PSUBSCRIBE', keys.lifecyclePattern()], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => { cli.kill(); });
  let out = '';
  cli.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
  // redis-cli prints the subscription confirmation once it is subscribed.
  await waitFor('redis-cli to subscribe', () => out.includes(keys.lifecyclePattern()), { intervalMs: 10 });
  const types: EventType[] = ['token.rotated', 'stream.connected'];
  for (const type of types) await publisher.publish(type, SAMPLES[type].subject, SAMPLES[type].data as never);
  // With --no-raw each pmessage is: "pmessage", pattern, channel, message, each on its own line.
  const messages = () => out.split('\n').filter((line) => line.includes('{'));
  await waitFor('redis-cli to print both events', () => messages().length === types.length, { intervalMs: 10 });
  for (const [i, line] of messages().entries()) {
    const json = JSON.parse(line.replace(/^\d+\)\s*/, '')) as string; // a quoted Redis string is a JSON string
    const event = parseEvent(json);
    assert.equal(event.type, types[i]);
    assert.equal(event.specversion, '1.0');
  }
  assert.ok(out.includes(keys.lifecycleChannel('token.rotated')));
});

test('the lifecycle stream stays bounded (XADD MAXLEN ~)', async (t) => {
  const redis = await connect(t);
  const keys = uniqueKeys(t);
  const max = 50;
  const publisher = createEventPublisher({ redis, keys, source: SOURCE, logger: captureLogger().logger, maxStreamLength: max });
  const total = 600;
  for (let i = 0; i < total; i += 50) {
    await Promise.all(Array.from({ length: 50 }, () => publisher.publish('token.rate_limited', 'sales', { profile: 'sales', retryAfterSeconds: 1 })));
  }
  const length = await redis.xlen(keys.lifecycleStream());
  // `~` trims whole stream nodes only: the length may exceed the cap by up to one node.
  const nodeSize = Number(((await redis.config('GET', 'stream-node-max-entries')) as string[])[1] ?? 100);
  assert.ok(length >= max && length <= max + nodeSize, `length ${length}`);
  assert.ok(length < total);
});

test('a failed publish rejects with a code, is logged without secrets, and never crashes the caller', async (t) => {
  const dead = createRedis({ mode: 'standalone', url: 'redis://127.0.0.1:1' }, { failFast: true });
  dead.on('error', () => {});
  t.after(() => dead.disconnect());
  const { logger, lines } = captureLogger();
  const keys = createKeys(`test:${randomUUID()}`); // nothing is written: no cleanup
  const publisher = createEventPublisher({ redis: dead, keys, source: SOURCE, logger, timeoutMs: 2000 });
  await assert.rejects(publisher.publish('token.rotated', 'sales', SAMPLES['token.rotated'].data), { code: 'ERR_REDIS_UNAVAILABLE' });
  assert.equal(await publisher.tryPublish('token.rotated', 'sales', SAMPLES['token.rotated'].data), undefined);
  assert.ok(lines.some((l) => l.msg === 'lifecycle event not published'));
  // Refused before anything is sent, and logged without the value.
  const secret = 'Bearer abcdefghijklmnopqrstuvwxyz0123';
  await assert.rejects(publisher.publish('token.mint_failed', 'sales', { profile: 'sales', code: 'x', message: secret }), { code: 'ERR_EVENT_SECRET_IN_DATA' });
  await assert.rejects(publisher.publish('token.minted', 'sales', { profile: 'sales' } as never), { code: 'ERR_EVENT_INVALID' });
  assert.equal(await publisher.tryPublish('token.minted', 'sales', { profile: 'sales' } as never), undefined);
  assert.ok(!JSON.stringify(lines).includes('abcdefghijklmnopqrstuvwxyz0123'));
  assert.throws(() => createEventPublisher({ redis: dead, keys, source: 'broker', logger }), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => createEventPublisher({ redis: dead, keys, source: SOURCE, logger, maxStreamLength: 0 }), { code: 'ERR_CONFIG_INVALID' });
});

test('a publish on a Redis that never answers times out instead of hanging', async (t) => {
  // A queueing client on a closed port: commands wait in the offline queue forever without the timeout.
  const stuck = createRedis({ mode: 'standalone', url: 'redis://127.0.0.1:1' });
  stuck.on('error', () => {});
  t.after(() => stuck.disconnect());
  const { logger } = captureLogger();
  const publisher = createEventPublisher({ redis: stuck, keys: createKeys(`test:${randomUUID()}`), source: SOURCE, logger, timeoutMs: 300 });
  await assert.rejects(publisher.publish('token.rotated', 'sales', SAMPLES['token.rotated'].data), { code: 'ERR_REDIS_UNAVAILABLE' });
});
