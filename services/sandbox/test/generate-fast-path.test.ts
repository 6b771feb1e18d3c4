// The benchmark's fast path of generateEvents (`distinctBodies`): the model's bodies are made once
// and repeated, each event with its own sequence and CorrelationId, from a frame serialized once.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { waitFor } from '../../../test/support/wait.js';
import { channelWith, clientWithToken, sandbox } from './helpers.js';

const TOPIC = 'v2.routing.queues.q1.conversations';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Frame { topicName: string; version: string; eventBody: Record<string, unknown>; metadata: { CorrelationId: string; type: string } }

/** Connects and keeps every text frame as received (the raw text, not re-serialized). */
async function rawSocket(t: TestContext, uri: string): Promise<{ events: () => { text: string; frame: Frame }[] }> {
  const ws = new WebSocket(uri);
  const texts: string[] = [];
  ws.on('message', (data) => texts.push(data.toString()));
  ws.on('error', () => undefined);
  t.after(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    events: () => texts.map((text) => ({ text, frame: JSON.parse(text) as Frame })).filter((e) => e.frame.topicName === TOPIC),
  };
}

const withoutSequence = (body: Record<string, unknown>) => {
  const { sequence: _sequence, ...rest } = body;
  return rest;
};

test('distinctBodies: bodies repeat in turn, each event with its own sequence and CorrelationId, as JSON.stringify writes them', async (t) => {
  const sb = await sandbox(t);
  const { token } = await clientWithToken(sb);
  const channel = await channelWith(sb, token, [TOPIC]);
  const s = await rawSocket(t, channel.connectUri);
  // One event through the model as usual, for the shape.
  await sb.admin.generateEvents({ topic: TOPIC, count: 1 });
  const extra = { note: 'a "quoted" \u0001 value' };
  const result = await sb.admin.generateEvents({ topic: TOPIC, count: 23, distinctBodies: 5, ratePerSecond: 5_000, body: extra });
  assert.deepEqual(result, { sent: 23, delivered: 23, firstSequence: 2, lastSequence: 24 });
  await waitFor('events', () => s.events().length === 24, { intervalMs: 10 });
  const [live, ...fast] = s.events();
  // The same text JSON.stringify gives, keys in the same order as an event made by the model.
  for (const e of [live!, ...fast]) assert.equal(e.text, JSON.stringify(e.frame));
  assert.deepEqual(Object.keys(fast[0]!.frame), Object.keys(live!.frame));
  assert.deepEqual(Object.keys(fast[0]!.frame.eventBody), [...Object.keys(live!.frame.eventBody).filter((k) => k !== 'sequence'), 'note', 'sequence']);
  assert.deepEqual(fast.map((e) => e.frame.eventBody.sequence), Array.from({ length: 23 }, (_, i) => i + 2));
  const ids = fast.map((e) => e.frame.metadata.CorrelationId);
  assert.ok(ids.every((id) => UUID.test(id)), 'UUIDs');
  assert.equal(new Set([...ids, live!.frame.metadata.CorrelationId]).size, 24);
  for (const [i, e] of fast.entries()) {
    assert.equal(e.frame.eventBody.note, extra.note);
    assert.deepEqual(withoutSequence(e.frame.eventBody), withoutSequence(fast[i % 5]!.frame.eventBody), `event ${i} repeats body ${i % 5}`);
    assert.deepEqual({ ...e.frame, eventBody: undefined, metadata: { ...e.frame.metadata, CorrelationId: undefined } },
      { topicName: TOPIC, version: '2', eventBody: undefined, metadata: { type: 'message', CorrelationId: undefined } });
  }
  assert.equal(new Set(fast.slice(0, 5).map((e) => JSON.stringify(withoutSequence(e.frame.eventBody)))).size, 5, 'five different bodies');
  const c = sb.admin.counters();
  assert.equal(c.eventsGenerated[TOPIC], 24);
  assert.equal(c.eventsSentByTopic[TOPIC], 24);
});

test('distinctBodies must be an integer in 1..100000', async (t) => {
  const sb = await sandbox(t);
  for (const distinctBodies of [0, 1.5, 100_001]) {
    await assert.rejects(sb.admin.generateEvents({ topic: TOPIC, count: 1, distinctBodies }), /distinctBodies/);
  }
});
