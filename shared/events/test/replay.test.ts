import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../../test/support/wait.js';
import { createEventPublisher, createEventSubscriber, readEvents, type AnyCloudEvent, type EventPublisher } from '../src/index.js';
import { captureLogger, connect, uniqueKeys } from './helpers.js';
import type { TestContext } from 'node:test';
import type { Keys, RedisClient } from '@gtb/redis';

const SOURCE = '/gtb/broker/test-1';

function rateLimited(publisher: EventPublisher, n: number) {
  return publisher.publish('token.rate_limited', 'sales', { profile: 'sales', retryAfterSeconds: n });
}

/** Starts a subscriber on its own connection, collecting what it gets. */
async function subscribe(t: TestContext, keys: Keys, since?: string | Date, start = true) {
  const sub = await connect(t, 'events-sub');
  const received: AnyCloudEvent[] = [];
  const errors: unknown[] = [];
  const subscriber = createEventSubscriber({ redis: sub, keys, since, onEvent: (e) => { received.push(e); }, onError: (e) => { errors.push(e); } });
  t.after(() => subscriber.close());
  const started = start ? subscriber.start() : Promise.resolve();
  return { sub, subscriber, received, errors, started };
}

async function setup(t: TestContext): Promise<{ redis: RedisClient; keys: Keys; publisher: EventPublisher }> {
  const redis = await connect(t);
  const keys = uniqueKeys(t);
  return { redis, keys, publisher: createEventPublisher({ redis, keys, source: SOURCE, logger: captureLogger().logger }) };
}

test('an offline subscriber replays what it missed since a stream id, then goes live', async (t) => {
  const { redis, keys, publisher } = await setup(t);
  await rateLimited(publisher, 1);
  const seenByThen = await readEvents({ redis, keys });
  const missed = [await rateLimited(publisher, 2), await rateLimited(publisher, 3)];
  const s = await subscribe(t, keys, seenByThen.at(-1)!.streamId);
  await s.started;
  const live = await rateLimited(publisher, 4);
  await waitFor('replayed and live events', () => s.received.length === 3, { intervalMs: 10 });
  assert.deepEqual(s.received.map((e) => e.id), [...missed, live].map((e) => e.id));
  assert.deepEqual(s.errors, []);
});

test('an offline subscriber replays what it missed since a time', async (t) => {
  const { redis, keys, publisher } = await setup(t);
  await rateLimited(publisher, 1);
  const [first] = await readEvents({ redis, keys });
  const firstMs = Number(first!.streamId.split('-')[0]);
  // Stream ids carry the Redis clock: wait for it to pass the first event's millisecond.
  let serverMs = firstMs;
  while (serverMs <= firstMs) {
    const [sec, usec] = await redis.time();
    serverMs = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
  }
  const since = new Date(serverMs);
  const missed = [await rateLimited(publisher, 2), await rateLimited(publisher, 3)];
  const s = await subscribe(t, keys, since);
  await s.started;
  await waitFor('events since the time', () => s.received.length === 2, { intervalMs: 10 });
  assert.deepEqual(s.received.map((e) => e.id), missed.map((e) => e.id));
  const window = await readEvents({ redis, keys, since: new Date(firstMs), until: new Date(firstMs) });
  assert.deepEqual(window.map((w) => w.event.id), [first!.event.id]);
});

test('no loss and no double at the replay → live switch while events keep coming', async (t) => {
  const { redis, keys, publisher } = await setup(t);
  // More than one replay page (500) already stored.
  const before = 1100;
  for (let i = 0; i < before; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => rateLimited(publisher, i + j)));
  const during = 600;
  let published = before;
  const burst = (async () => {
    for (let i = 0; i < during; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => rateLimited(publisher, before + i + j)));
      published += 20;
    }
  })();
  // Subscribers start at different moments of the burst, all replaying from the beginning.
  const subs = [];
  for (let k = 0; k < 4; k++) {
    await waitFor('the burst to go on', () => published >= before + k * 120, { intervalMs: 10 });
    subs.push(await subscribe(t, keys, '0'));
  }
  await burst;
  await Promise.all(subs.map((s) => s.started));
  const after = await rateLimited(publisher, 99_999);
  const stored = (await readEvents({ redis, keys, count: 10_000 })).map((s) => s.event.id);
  assert.equal(stored.length, before + during + 1);
  assert.equal(stored.at(-1), after.id);
  for (const [k, s] of subs.entries()) {
    await waitFor(`subscriber ${k} to catch up`, () => s.received.length >= stored.length, { timeoutMs: 15_000, intervalMs: 10 });
    const ids = s.received.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, `subscriber ${k} got doubles`);
    assert.deepEqual(ids, stored, `subscriber ${k} lost or reordered events`);
    assert.deepEqual(s.errors, []);
  }
});

test('readEvents pages with since/count and checks its arguments', async (t) => {
  const { redis, keys, publisher } = await setup(t);
  const sent = [];
  for (let i = 0; i < 5; i++) sent.push(await rateLimited(publisher, i));
  const page1 = await readEvents({ redis, keys, count: 2 });
  const page2 = await readEvents({ redis, keys, since: page1.at(-1)!.streamId, count: 2 });
  const page3 = await readEvents({ redis, keys, since: page2.at(-1)!.streamId, count: 2 });
  assert.deepEqual([...page1, ...page2, ...page3].map((s) => s.event.id), sent.map((e) => e.id));
  const invalid: string[] = [];
  await redis.xadd(keys.lifecycleStream(), '*', 'event', '{"nope":1}');
  await redis.xadd(keys.lifecycleStream(), '*', 'other', 'x');
  const all = await readEvents({ redis, keys, onInvalid: (e) => invalid.push(e.code) });
  assert.equal(all.length, 5);
  assert.deepEqual(invalid, ['ERR_EVENT_INVALID', 'ERR_EVENT_INVALID']);
  await assert.rejects(readEvents({ redis, keys, since: 'yesterday' }), { code: 'ERR_VALIDATION' });
  await assert.rejects(readEvents({ redis, keys, count: 0 }), { code: 'ERR_VALIDATION' });
  await assert.rejects(readEvents({ redis, keys, until: new Date(Number.NaN) }), { code: 'ERR_VALIDATION' });
  assert.throws(() => createEventSubscriber({ redis, keys, since: 'x', onEvent: () => {} }), { code: 'ERR_VALIDATION' });
});

test('a subscriber whose connection is killed catches up on reconnect without doubles', async (t) => {
  const { redis, keys, publisher } = await setup(t);
  const s = await subscribe(t, keys, undefined, false);
  const clientId = await s.sub.client('ID');
  await s.subscriber.start();
  const first = await rateLimited(publisher, 1);
  await waitFor('the first live event', () => s.received.length === 1, { intervalMs: 10 });
  await redis.client('KILL', 'ID', String(clientId));
  // ioredis waits its retry delay before reconnecting: these land while the subscriber is away.
  const missed = [await rateLimited(publisher, 2), await rateLimited(publisher, 3)];
  await waitFor('the missed events after reconnect', () => s.received.length >= 3, { intervalMs: 10 });
  const last = await rateLimited(publisher, 4);
  await waitFor('live events after reconnect', () => s.received.length >= 4, { intervalMs: 10 });
  assert.deepEqual(s.received.map((e) => e.id), [first, ...missed, last].map((e) => e.id));
  assert.deepEqual(s.errors, []);
});
