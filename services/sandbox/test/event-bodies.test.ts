import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../../test/support/wait.js';
import { PRESENCE_DEFINITIONS } from '../src/index.js';
import { channelWith, clientWithToken, connect, sandbox, testClock } from './helpers.js';

type Body = Record<string, unknown> & { sequence: number };

async function eventsOn(t: Parameters<typeof sandbox>[0], topics: string[], clock = testClock()) {
  const sb = await sandbox(t, { now: clock.now });
  const { token } = await clientWithToken(sb);
  const channel = await channelWith(sb, token, topics);
  const socket = await connect(t, channel.connectUri);
  const bodies = async (topic: string, count: number): Promise<Body[]> => {
    const before = socket.events(topic).length;
    await sb.admin.generateEvents({ topic, count });
    await waitFor(`${count} events on ${topic}`, () => socket.events(topic).length === before + count, { intervalMs: 10 });
    return socket.events(topic).slice(before).map((e) => e.eventBody as unknown as Body);
  };
  return { sb, token, clock, bodies };
}

test('presence events are PresenceEventUserPresence bodies: definition, source, modifiedDate at the event time, sequence', async (t) => {
  const clock = testClock();
  const { bodies } = await eventsOn(t, ['v2.users.u1.presence'], clock);
  const first = (await bodies('v2.users.u1.presence', 1))[0]!;
  assert.deepEqual(Object.keys(first).sort(), ['message', 'modifiedDate', 'presenceDefinition', 'primary', 'sequence', 'source']);
  assert.equal(first.source, 'PURECLOUD');
  assert.equal(first.primary, true);
  assert.equal(first.modifiedDate, new Date(clock.now()).toISOString());
  assert.equal(first.sequence, 1);
  const def = first.presenceDefinition as { id: string; systemPresence: keyof typeof PRESENCE_DEFINITIONS };
  assert.equal(def.id, PRESENCE_DEFINITIONS[def.systemPresence]);
  clock.advance(5_000);
  const next = await bodies('v2.users.u1.presence', 3);
  assert.deepEqual(next.map((b) => b.sequence), [2, 3, 4]);
  for (const b of next) assert.equal(b.modifiedDate, new Date(clock.now()).toISOString());
  // Consecutive events change the presence: each one is a change, not a repeat.
  const systems = [first, ...next].map((b) => (b.presenceDefinition as { systemPresence: string }).systemPresence);
  for (let i = 1; i < systems.length; i++) assert.notEqual(systems[i], systems[i - 1]);
});

test('routing status events are UserRoutingStatusUserRoutingStatus bodies with routingStatus.startTime', async (t) => {
  const clock = testClock();
  const { bodies } = await eventsOn(t, ['v2.users.u2.routingStatus'], clock);
  const [a, b] = await bodies('v2.users.u2.routingStatus', 2);
  assert.equal(a!.id, 'u2');
  const rs = a!.routingStatus as { status: string; startTime: string };
  assert.ok(['OFF_QUEUE', 'IDLE', 'INTERACTING', 'NOT_RESPONDING', 'COMMUNICATING'].includes(rs.status));
  assert.equal(rs.startTime, new Date(clock.now()).toISOString());
  assert.notEqual((b!.routingStatus as { status: string }).status, rs.status);
  assert.deepEqual([a!.sequence, b!.sequence], [1, 2]);
});

test('queue conversation events follow one conversation from waiting (customer + acd) to an agent to its end', async (t) => {
  const { bodies } = await eventsOn(t, ['v2.routing.queues.q1.conversations']);
  type P = { purpose: string; queueId?: string; userId?: string; endTime?: string; calls: { state: string }[] };
  const events = (await bodies('v2.routing.queues.q1.conversations', 8)) as (Body & { id: string; participants: P[] })[];
  assert.deepEqual(events.map((e) => e.sequence), [1, 2, 3, 4, 5, 6, 7, 8]);
  const first = events[0]!;
  assert.deepEqual(first.participants.map((p) => p.purpose), ['customer', 'acd']);
  assert.equal(first.participants[1]!.queueId, 'q1');
  assert.ok(first.participants.every((p) => p.calls[0]!.state === 'connected'));
  const history = events.filter((e) => e.id === first.id);
  const answered = history.find((e) => e.participants.some((p) => p.purpose === 'agent'));
  assert.ok(answered, 'the first conversation is answered within 8 events');
  assert.ok(answered.participants.find((p) => p.purpose === 'acd')!.endTime, 'the acd leg ends when an agent connects');
  assert.equal(typeof answered.participants.find((p) => p.purpose === 'agent')!.userId, 'string');
  const ended = history.find((e) => e.participants.every((p) => p.calls[0]!.state === 'disconnected'));
  assert.ok(ended, 'the first conversation ends within 8 events');
  assert.ok(Array.isArray(first.divisions));
});

test('user conversation events: alerting, connected, disconnected, then a new conversation', async (t) => {
  const { bodies } = await eventsOn(t, ['v2.users.u3.conversations']);
  type P = { purpose: string; userId?: string; calls: { state: string }[] };
  const events = (await bodies('v2.users.u3.conversations', 4)) as (Body & { id: string; participants: P[] })[];
  const agentState = (e: (typeof events)[number]) => e.participants.find((p) => p.purpose === 'agent')!.calls[0]!.state;
  assert.deepEqual(events.map(agentState), ['alerting', 'connected', 'disconnected', 'alerting']);
  assert.equal(events[0]!.participants.find((p) => p.purpose === 'agent')!.userId, 'u3');
  assert.equal(events[1]!.id, events[0]!.id);
  assert.notEqual(events[3]!.id, events[0]!.id);
});

test('queue observation events carry group, an instant interval and oWaiting/oInteracting counts', async (t) => {
  const clock = testClock();
  const { bodies } = await eventsOn(t, ['v2.analytics.queues.q9.observations'], clock);
  type Obs = Body & { group: { queueId: string; mediaType: string }; data: { interval: string; metrics: { metric: string; stats: { count: number } }[] }[] };
  const events = (await bodies('v2.analytics.queues.q9.observations', 3)) as Obs[];
  const at = new Date(clock.now()).toISOString();
  for (const e of events) {
    assert.deepEqual(e.group, { queueId: 'q9', mediaType: 'voice' });
    assert.equal(e.data[0]!.interval, `${at}/${at}`);
    assert.deepEqual(e.data[0]!.metrics.map((m) => m.metric), ['oWaiting', 'oInteracting']);
  }
  // The queue's traffic: a call arrives, another arrives, the oldest is answered.
  assert.deepEqual(events.map((e) => e.data[0]!.metrics.map((m) => m.stats.count)), [[1, 0], [2, 0], [1, 1]]);
});

test('other topics keep a body of the given fields and sequence; given fields override a modelled body in the event', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  const channel = await channelWith(sb, token, ['v2.flows.f1', 'v2.users.u4.presence']);
  const socket = await connect(t, channel.connectUri);
  await sb.admin.generateEvents({ topic: 'v2.flows.f1', count: 1, body: { n: 7 } });
  await sb.admin.generateEvents({ topic: 'v2.users.u4.presence', count: 1, body: { message: 'given' } });
  await waitFor('two events', () => socket.events().length === 2, { intervalMs: 10 });
  assert.deepEqual(socket.events('v2.flows.f1')[0]!.eventBody, { n: 7, sequence: 1 });
  const presence = socket.events('v2.users.u4.presence')[0]!.eventBody as unknown as Body;
  assert.equal(presence.message, 'given');
  assert.equal(presence.source, 'PURECLOUD');
  assert.equal(presence.sequence, 1);
});
