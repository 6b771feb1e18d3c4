import assert from 'node:assert/strict';
import { test } from 'node:test';
import platformClient from 'purecloud-platform-client-v2';
import { waitFor } from '../../../test/support/wait.js';
import { PURECLOUD_SOURCE } from '../src/index.js';
import { api, channelWith, clientWithToken, connect, sandbox, testClock } from './helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test('presence and routing status snapshots equal the last event, by REST and through the official SDK', async (t) => {
  const clock = testClock();
  const sb = await sandbox(t, { now: clock.now });
  const { clientId, clientSecret, token } = await clientWithToken(sb);
  const topics = ['v2.users.u1.presence', 'v2.users.u1.routingStatus'];
  const socket = await connect(t, (await channelWith(sb, token, topics)).connectUri);

  // Never seen: offline and off queue since first asked for.
  let presence = (await (await api(sb, token, 'GET', '/users/u1/presences/purecloud')).json()) as Json;
  assert.equal(presence.presenceDefinition.systemPresence, 'OFFLINE');
  assert.equal(presence.source, 'PURECLOUD');

  clock.advance(60_000);
  await sb.admin.generateEvents({ topic: topics[0]!, count: 3 });
  await sb.admin.generateEvents({ topic: topics[1]!, count: 2 });
  await waitFor('five events', () => socket.events().length === 5, { intervalMs: 10 });
  const lastPresence = socket.events(topics[0]).at(-1)!.eventBody as unknown as Json;
  const lastRouting = socket.events(topics[1]).at(-1)!.eventBody as unknown as Json;

  presence = (await (await api(sb, token, 'GET', '/users/u1/presences/purecloud')).json()) as Json;
  assert.deepEqual(presence.presenceDefinition.id, lastPresence.presenceDefinition.id);
  assert.equal(presence.presenceDefinition.systemPresence, lastPresence.presenceDefinition.systemPresence);
  assert.equal(presence.modifiedDate, lastPresence.modifiedDate);
  assert.equal(presence.selfUri, '/api/v2/users/u1/presences/purecloud');
  const bySourceId = (await (await api(sb, token, 'GET', `/users/u1/presences/${PURECLOUD_SOURCE.sourceId}`)).json()) as Json;
  assert.deepEqual(bySourceId, presence);
  assert.equal((await api(sb, token, 'GET', '/users/u1/presences/some-other-source')).status, 404);

  const routing = (await (await api(sb, token, 'GET', '/users/u1/routingstatus')).json()) as Json;
  assert.deepEqual(routing, { userId: 'u1', status: lastRouting.routingStatus.status, startTime: lastRouting.routingStatus.startTime });

  // The official SDK reads the same endpoints into its models.
  const port = Number(new URL(sb.url).port);
  const client = platformClient.ApiClient.instance;
  client.setGateway({ host: '127.0.0.1', protocol: 'http', port, path_params_login: '', path_params_api: '' });
  await client.loginClientCredentialsGrant(clientId, clientSecret);
  const sdkPresence = await new platformClient.PresenceApi(client).getUserPresencesPurecloud('u1');
  assert.equal(sdkPresence.presenceDefinition?.systemPresence, lastPresence.presenceDefinition.systemPresence);
  const bulk = await new platformClient.PresenceApi(client).getUsersPresencesPurecloudBulk({ id: ['u1', 'u2'] });
  assert.deepEqual(bulk.map((p) => [p.userId, p.presenceDefinition?.systemPresence]), [['u1', lastPresence.presenceDefinition.systemPresence], ['u2', 'OFFLINE']]);
  const sdkRouting = await new platformClient.UsersApi(client).getUserRoutingstatus('u1');
  assert.equal(sdkRouting.status, lastRouting.routingStatus.status);
});

test('queue observations and conversations: the query counts and lists what the events showed, GET conversation has the participants', async (t) => {
  const sb = await sandbox(t);
  const { clientId, clientSecret, token } = await clientWithToken(sb);
  const topic = 'v2.routing.queues.q1.conversations';
  const socket = await connect(t, (await channelWith(sb, token, [topic])).connectUri);
  await sb.admin.generateEvents({ topic, count: 3 });
  await waitFor('three events', () => socket.events(topic).length === 3, { intervalMs: 10 });
  // Arrive, arrive, answer the oldest: one waiting, one interacting.
  const [a, b, c] = socket.events(topic).map((e) => e.eventBody as unknown as Json);
  assert.equal(c!.id, a!.id);
  const query = {
    filter: { type: 'or', predicates: [{ type: 'dimension', dimension: 'queueId', operator: 'matches', value: 'q1' }, { dimension: 'queueId', value: 'q-empty' }] },
    metrics: ['oWaiting', 'oInteracting'],
    detailMetrics: ['oWaiting', 'oInteracting'],
  };
  const res = await api(sb, token, 'POST', '/analytics/queues/observations/query', query);
  assert.equal(res.status, 200);
  const { results } = (await res.json()) as Json;
  assert.deepEqual(results.map((r: Json) => r.group), [{ queueId: 'q1' }, { queueId: 'q-empty' }]);
  const [waiting, interacting] = results[0].data as Json[];
  assert.deepEqual([waiting!.metric, waiting!.stats.count, waiting!.observations.map((o: Json) => o.conversationId)], ['oWaiting', 1, [b!.id]]);
  assert.deepEqual([interacting!.metric, interacting!.stats.count, interacting!.observations.map((o: Json) => o.conversationId)], ['oInteracting', 1, [a!.id]]);
  assert.equal(typeof interacting!.observations[0].observationDate, 'string');
  assert.deepEqual(results[1].data.map((d: Json) => d.stats.count), [0, 0]);

  const conversation = (await (await api(sb, token, 'GET', `/conversations/${a!.id}`)).json()) as Json;
  assert.equal(conversation.id, a!.id);
  assert.deepEqual(conversation.participants.map((p: Json) => p.purpose), ['customer', 'acd', 'agent']);
  assert.deepEqual(conversation.participants.map((p: Json) => p.id), c!.participants.map((p: Json) => p.id));
  assert.equal(conversation.endTime, undefined);
  assert.equal((await api(sb, token, 'GET', '/conversations/nope')).status, 404);

  // Through the SDK, and after the conversation ended.
  const port = Number(new URL(sb.url).port);
  const client = platformClient.ApiClient.instance;
  client.setGateway({ host: '127.0.0.1', protocol: 'http', port, path_params_login: '', path_params_api: '' });
  await client.loginClientCredentialsGrant(clientId, clientSecret);
  await sb.admin.generateEvents({ topic, count: 1 });
  const ended = await new platformClient.ConversationsApi(client).getConversation(a!.id);
  assert.equal(typeof ended.endTime, 'string');
  const sdkResult = await new platformClient.RoutingApi(client).postAnalyticsQueuesObservationsQuery({ filter: { type: 'or', predicates: [{ dimension: 'queueId', value: 'q1' }] }, metrics: ['oInteracting'] });
  assert.deepEqual(sdkResult.results?.[0]?.data?.map((d) => [d.metric, d.stats?.count]), [['oInteracting', 0]]);
});

test('observation events and the observation query agree', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  const topic = 'v2.analytics.queues.q2.observations';
  const socket = await connect(t, (await channelWith(sb, token, [topic])).connectUri);
  await sb.admin.generateEvents({ topic, count: 5 });
  await waitFor('five events', () => socket.events(topic).length === 5, { intervalMs: 10 });
  const last = socket.events(topic).at(-1)!.eventBody as unknown as Json;
  const res = await api(sb, token, 'POST', '/analytics/queues/observations/query', { filter: { type: 'and', clauses: [{ type: 'or', predicates: [{ dimension: 'queueId', value: 'q2' }] }], predicates: [{ dimension: 'mediaType', value: 'voice' }] }, metrics: ['oWaiting', 'oInteracting'] });
  const { results } = (await res.json()) as Json;
  assert.deepEqual(results[0].group, { queueId: 'q2', mediaType: 'voice' });
  assert.deepEqual(results[0].data.map((d: Json) => d.stats.count), last.data[0].metrics.map((m: Json) => m.stats.count));
});

test('snapshot routes need a valid token; malformed queries are 400 in Genesys ErrorBody form', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  for (const [method, path] of [['GET', '/users/u1/presences/purecloud'], ['GET', '/users/u1/routingstatus'], ['POST', '/analytics/queues/observations/query'], ['GET', '/conversations/c1'], ['GET', '/users/presences/purecloud/bulk?id=u1']] as const) {
    const res = await api(sb, undefined, method, path);
    assert.equal(res.status, 401, path);
    assert.equal(((await res.json()) as Json).code, 'authentication.required');
  }
  const bad = [
    {},
    { filter: { type: 'or', predicates: [] }, metrics: ['oWaiting'] },
    { filter: { type: 'or', predicates: [{ dimension: 'queueId', value: 'q' }] }, metrics: ['oServiceLevel'] },
    { filter: { type: 'xor', predicates: [{ dimension: 'queueId', value: 'q' }] } },
    { filter: { type: 'or', predicates: [{ dimension: 'userId', value: 'u' }] } },
  ];
  for (const body of bad) {
    const res = await api(sb, token, 'POST', '/analytics/queues/observations/query', body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(((await res.json()) as Json).code, 'bad.request');
  }
  const ids = Array.from({ length: 51 }, (_, i) => `id=u${i}`).join('&');
  assert.equal((await api(sb, token, 'GET', `/users/presences/purecloud/bulk?${ids}`)).status, 400);
  assert.equal((await api(sb, token, 'GET', '/users/presences/purecloud/bulk?id=a,b')).status, 200);
});

test('reset forgets the world', async (t) => {
  const sb = await sandbox(t);
  await sb.admin.generateEvents({ topic: 'v2.users.u1.presence', count: 1 });
  sb.admin.reset();
  const { token: fresh } = await clientWithToken(sb);
  const presence = (await (await api(sb, fresh, 'GET', '/users/u1/presences/purecloud')).json()) as Json;
  assert.equal(presence.presenceDefinition.systemPresence, 'OFFLINE');
});
