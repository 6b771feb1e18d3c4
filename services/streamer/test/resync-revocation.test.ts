// Two things the fault soak found in the resync (issue 14), each against the real sandbox:
// a snapshot call that meets a revoked token waits for the replacement instead of failing its
// topics, and a conversation reordered past its end is not tracked as in progress again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '@gtb/sandbox';
import { createGenesysApi } from '@gtb/genesys';
import { createSnapshotClient } from '../src/resync/snapshot-client.js';
import { createRateGate } from '../src/resync/rate-gate.js';
import { createConversationTracker } from '../src/resync/conversation-tracker.js';
import { STREAMING_SANDBOX } from '../../../test/support/streamer-harness.js';

async function mint(url: string, client: { clientId: string; clientSecret: string }): Promise<string> {
  const res = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  return (await res.json() as { access_token: string }).access_token;
}

test('a snapshot call that meets a revoked token waits for the replacement and succeeds with it', { timeout: 30_000 }, async (t) => {
  const sandbox = await startSandbox({ ...STREAMING_SANDBOX });
  t.after(() => sandbox.close());
  const client = sandbox.admin.createClient({ name: 'resync' });
  let token = await mint(sandbox.url, client);
  const conversation = await sandbox.admin.generateEvents({ topic: 'v2.routing.queues.q1.conversations', count: 1 });
  assert.equal(conversation.sent, 1);
  const api = createGenesysApi({ apiBaseUrl: sandbox.url });
  const snapshots = createSnapshotClient({
    api: () => ({ api, token }), gate: createRateGate({ perMinute: 600, concurrency: 2, now: Date.now }), attempts: 4, now: Date.now,
    signal: new AbortController().signal,
  });
  const ids = (await snapshots.observations(['q1'])).get('q1')!.conversationIds;
  assert.equal(ids.length, 1);
  // Revoked at Genesys; the worker has a replacement 1.5 s later (in the streamer: the socket's
  // token_revoked notice, the report to the broker, the new lease).
  assert.equal(sandbox.admin.revokeToken(token), 1);
  setTimeout(() => { void mint(sandbox.url, client).then((t2) => { token = t2; }); }, 1_500);
  const started = Date.now();
  const body = await snapshots.conversation(ids[0]!);
  assert.equal(body?.id, ids[0]);
  assert.ok(Date.now() - started >= 1_400, 'it waited for the replacement');
});

test('the conversation tracker: an in-progress event delivered after the conversation\'s end does not bring it back', () => {
  const tracker = createConversationTracker(10);
  const topic = 'v2.routing.queues.q1.conversations';
  tracker.observe(topic, { id: 'c1', ended: false });
  tracker.observe(topic, { id: 'c2', ended: false });
  tracker.observe(topic, { id: 'c1', ended: true });
  tracker.observe(topic, { id: 'c1', ended: false }); // reordered: older than its end
  assert.deepEqual(tracker.live(topic), ['c2']);
  // The resync settling an ended conversation remembers it as ended too.
  tracker.settle(topic, 'c2', true);
  tracker.observe(topic, { id: 'c2', ended: false });
  assert.deepEqual(tracker.live(topic), []);
});
