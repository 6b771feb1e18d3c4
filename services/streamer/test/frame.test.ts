import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFrame } from '../src/index.js';

test('heartbeats and pongs are control frames, never events', () => {
  assert.equal(parseFrame('{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}').kind, 'heartbeat');
  assert.equal(parseFrame('{"topicName":"channel.metadata","eventBody":{"message":"pong"}}').kind, 'pong');
});

test('system topics are classified apart', () => {
  const f = parseFrame('{"topicName":"v2.system.socket_closing","eventBody":{"channelId":"c"}}');
  assert.equal(f.kind, 'system');
});

test('an event is keyed by topic and CorrelationId, with its sequence', () => {
  const f = parseFrame('{"topicName":"v2.users.u.presence","version":"2","eventBody":{"sequence":7},"metadata":{"CorrelationId":"abc-1"}}');
  assert.equal(f.kind, 'event');
  if (f.kind !== 'event') return;
  assert.equal(f.dedupeId, 'v2.users.u.presence:abc-1');
  assert.equal(f.sequence, 7);
});

test('without a CorrelationId, byte-identical frames share an id and different ones do not', () => {
  const a = parseFrame('{"topicName":"v2.x.y","eventBody":{"n":1}}');
  const b = parseFrame('{"topicName":"v2.x.y","eventBody":{"n":1}}');
  const c = parseFrame('{"topicName":"v2.x.y","eventBody":{"n":2}}');
  assert.ok(a.kind === 'event' && b.kind === 'event' && c.kind === 'event');
  assert.equal(a.dedupeId, b.dedupeId);
  assert.notEqual(a.dedupeId, c.dedupeId);
});

test('garbage and unknown shapes never throw', () => {
  for (const text of ['', 'not json', '[]', 'null', '{"result":"404"}', '{"topicName":5}']) assert.equal(parseFrame(text).kind, 'unknown');
  const r = parseFrame('{"result":"404"}');
  assert.equal(r.kind === 'unknown' && r.result, '404');
});

test('an event\'s own time comes from the configured eventBody fields, nested ones too', () => {
  const frame = (body: Record<string, unknown>) => JSON.stringify({ topicName: 'v2.users.u1.routingStatus', eventBody: body, metadata: { CorrelationId: 'c1' } });
  const at = '2029-06-01T12:00:00.000Z';
  const e1 = parseFrame(frame({ routingStatus: { status: 'IDLE', startTime: at } }));
  assert.equal(e1.kind === 'event' ? e1.eventAt : undefined, Date.parse(at));
  const e2 = parseFrame(frame({ modifiedDate: at, sequence: 7 }));
  assert.equal(e2.kind === 'event' ? e2.eventAt : undefined, Date.parse(at));
  const e3 = parseFrame(frame({ sequence: 7, timestamp: 12 }));
  assert.equal(e3.kind === 'event' ? e3.eventAt : 'none', undefined, 'a small number is no time');
  const e4 = parseFrame(frame({ when: at }), ['when']);
  assert.equal(e4.kind === 'event' ? e4.eventAt : undefined, Date.parse(at));
});

test('a conversation event carries its id and whether every participant has ended, read once while parsing', () => {
  const frame = (topic: string, eventBody: unknown) => parseFrame(JSON.stringify({ topicName: topic, eventBody, metadata: { CorrelationId: 'c1' } }));
  const open = frame('v2.routing.queues.q1.conversations', { id: 'conv-1', participants: [{ endTime: '2026-01-01T00:00:00Z' }, {}] });
  assert.equal(open.kind, 'event');
  assert.deepEqual(open.kind === 'event' ? open.conversation : undefined, { id: 'conv-1', ended: false });
  const ended = frame('v2.users.u1.conversations', { id: 'conv-2', participants: [{ endTime: '2026-01-01T00:00:00Z' }] });
  assert.deepEqual(ended.kind === 'event' ? ended.conversation : undefined, { id: 'conv-2', ended: true });
  for (const other of [frame('v2.users.u1.presence', { id: 'x', participants: [] }), frame('v2.users.u1.conversations', { participants: [] })]) {
    assert.equal(other.kind === 'event' ? other.conversation : 'not an event', undefined);
  }
});
