import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, channelWith, clientWithToken, sandbox, testClock, type ChannelInfo } from './helpers.js';

interface Listing {
  entities: { id: string; state: string; rejectionReason?: string; selfUri: string }[];
}
const sub = (channel: ChannelInfo) => `/notifications/channels/${channel.id}/subscriptions`;

test('PUT replaces, POST adds, GET lists, DELETE removes all', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  const channel = await channelWith(sb, token, []);
  let res = await api(sb, token, 'PUT', sub(channel), [{ id: 'v2.users.u1.presence' }, { id: 'v2.users.u2.presence' }]);
  assert.equal(res.status, 200);
  let body = (await res.json()) as Listing;
  assert.deepEqual(body.entities.map((e) => [e.id, e.state]), [['v2.users.u1.presence', 'Permitted'], ['v2.users.u2.presence', 'Permitted']]);
  assert.equal(typeof body.entities[0]!.selfUri, 'string');
  res = await api(sb, token, 'POST', sub(channel), [{ id: 'v2.routing.queues.q1.conversations' }]);
  body = (await res.json()) as Listing;
  assert.equal(body.entities.length, 3);
  res = await api(sb, token, 'PUT', sub(channel), [{ id: 'v2.users.u3.presence' }]);
  body = (await res.json()) as Listing;
  assert.deepEqual(body.entities.map((e) => e.id), ['v2.users.u3.presence']);
  body = (await (await api(sb, token, 'GET', sub(channel))).json()) as Listing;
  assert.deepEqual(body.entities.map((e) => e.id), ['v2.users.u3.presence']);
  assert.equal((await api(sb, token, 'DELETE', sub(channel))).status, 200);
  body = (await (await api(sb, token, 'GET', sub(channel))).json()) as Listing;
  assert.deepEqual(body.entities, []);
});

test('a forbidden topic → 403 for the whole request unless ignoreErrors=true', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb, { allowedTopics: ['v2.users.*.presence'] });
  const channel = await channelWith(sb, token, []);
  const topics = [{ id: 'v2.users.u1.presence' }, { id: 'v2.routing.queues.q1.conversations' }];
  let res = await api(sb, token, 'PUT', sub(channel), topics);
  assert.equal(res.status, 403);
  assert.equal(((await res.json()) as { code: string }).code, 'not.authorized');
  let body = (await (await api(sb, token, 'GET', sub(channel))).json()) as Listing;
  assert.deepEqual(body.entities, []);
  res = await api(sb, token, 'PUT', `${sub(channel)}?ignoreErrors=true`, topics);
  assert.equal(res.status, 200);
  body = (await res.json()) as Listing;
  assert.deepEqual(body.entities.map((e) => [e.id, e.state]), [['v2.users.u1.presence', 'Permitted'], ['v2.routing.queues.q1.conversations', 'Rejected']]);
  assert.equal(typeof body.entities[1]!.rejectionReason, 'string');
  body = (await (await api(sb, token, 'GET', sub(channel))).json()) as Listing;
  assert.deepEqual(body.entities.map((e) => e.id), ['v2.users.u1.presence']);
});

test('more than 1000 topics → 400, by PUT or by adding with POST', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  const channel = await channelWith(sb, token, []);
  const many = (n: number, p: string) => Array.from({ length: n }, (_, i) => ({ id: `v2.users.${p}${i}.presence` }));
  let res = await api(sb, token, 'PUT', sub(channel), many(1001, 'a'));
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { code: string }).code, 'bad.request');
  assert.equal((await api(sb, token, 'PUT', sub(channel), many(1000, 'a'))).status, 200);
  res = await api(sb, token, 'POST', sub(channel), many(1, 'b'));
  assert.equal(res.status, 400);
  const body = (await (await api(sb, token, 'GET', sub(channel))).json()) as Listing;
  assert.equal(body.entities.length, 1000);
});

test('bad topic syntax or body shape → 400; unknown channel → 404', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  const channel = await channelWith(sb, token, []);
  for (const body of [[{ id: 'users.u1.presence' }], [{ id: 'v2..x' }], [{ id: 42 }], [{}], { id: 'v2.users.u1.presence' }, ['v2.users.u1.presence']]) {
    const res = await api(sb, token, 'PUT', sub(channel), body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(((await res.json()) as { code: string }).code, 'bad.request');
  }
  const res = await api(sb, token, 'PUT', '/notifications/channels/streaming-1-unknown/subscriptions', [{ id: 'v2.users.u1.presence' }]);
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { code: string }).code, 'not.found');
});

test('resubscribing extends the channel expiry, unless configured not to', async (t) => {
  for (const extend of [true, false]) {
    const clock = testClock();
    const sb = await sandbox(t, { now: clock.now, resubscribeExtendsChannel: extend, channelLifetimeMs: 3_600_000 });
    const { token } = await clientWithToken(sb);
    const channel = await channelWith(sb, token, []);
    clock.advance(1_800_000);
    await api(sb, token, 'PUT', sub(channel), [{ id: 'v2.users.u1.presence' }]);
    clock.advance(1_800_000);
    const status = (await api(sb, token, 'HEAD', `/notifications/channels/${channel.id}`)).status;
    assert.equal(status, extend ? 200 : 404, `extend=${extend}`);
  }
});

test('GET availabletopics answers a static list', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  const res = await api(sb, token, 'GET', '/notifications/availabletopics');
  assert.equal(res.status, 200);
  assert.ok(((await res.json()) as Listing).entities.length > 0);
});
