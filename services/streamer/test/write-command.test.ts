import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKeys, createRedis, waitReady } from '@gtb/redis';
import { memoryLogger } from '../../../test/support/system.js';
import { startPrivateRedis } from '../../../test/support/redis-server.js';
import { waitFor } from '../../../test/support/wait.js';
import { createEventSink, type PendingEvent } from '../src/event-sink.js';

/** `calls` of one command in `INFO commandstats` (scripts' inner commands are counted apart). */
async function calls(redis: ReturnType<typeof createRedis>, command: string): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
}

const event = (n: number): PendingEvent => ({
  dedupeId: `v2.t:${n}`, topic: 'v2.t', text: JSON.stringify({ topicName: 'v2.t', eventBody: { sequence: n } }),
  receivedAt: Date.now(), channelFingerprint: 'ba7816bf8f01', sequence: n,
});

test('the write script runs as an ioredis command: EVALSHA in pipelines, EVAL again after Redis forgot it, every event once', { timeout: 60_000 }, async (t) => {
  // A private server: SCRIPT FLUSH on the shared Redis would pull scripts from under other tests.
  const server = await startPrivateRedis();
  t.after(() => server.stop());
  const redis = createRedis({ mode: 'standalone', url: server.url }, { failFast: true });
  const admin = createRedis({ mode: 'standalone', url: server.url });
  for (const c of [redis, admin]) c.on('error', () => undefined);
  await Promise.all([waitReady(redis), waitReady(admin)]);
  t.after(() => { redis.disconnect(); admin.disconnect(); });
  const keys = createKeys('write-command-test');
  let written = 0;
  let duplicates = 0;
  const sink = createEventSink({
    redis, keys, stream: 's', instanceId: 'i-1', dedupeWindowMs: 60_000, maxBuffered: 10_000, batchSize: 100, writeTimeoutMs: 5_000,
    now: Date.now, logger: memoryLogger('silent').logger,
    onWritten: (w, d) => { written += w; duplicates += d; },
    onOverflow: () => assert.fail('no overflow expected'),
  });
  t.after(() => sink.close(1_000));

  for (let n = 1; n <= 300; n++) sink.push(event(n));
  assert.ok(await sink.drain(15_000), 'first 300 written');
  assert.equal(written, 300);
  assert.equal(await calls(admin, 'eval'), 1, 'the script went to the connection once');
  // One call per batch of up to 100 events (MAX_EVENTS_PER_CALL): three batches.
  assert.ok(await calls(admin, 'evalsha') >= 2, 'then by its SHA');

  await admin.script('FLUSH');
  // 100 doubles of what was written, then 200 new ones: NOSCRIPT on the first pipeline, sent again as EVAL.
  for (let n = 201; n <= 500; n++) sink.push(event(n));
  assert.ok(await sink.drain(15_000), 'next 300 written');
  await waitFor('the counts', () => written + duplicates === 600, { timeoutMs: 5_000 });
  assert.equal(written, 500);
  assert.equal(duplicates, 100);
  // Each batch already on its way when Redis forgot the script meets NOSCRIPT and is sent again as EVAL
  // (how many batches are in flight at that moment depends on timing: 1 to 3 of these 3 batches).
  const evals = await calls(admin, 'eval');
  assert.ok(evals >= 2 && evals <= 4, `sent again as EVAL after the flush, once per batch in flight (EVAL calls: ${evals})`);
  const evalshaBefore = await calls(admin, 'evalsha');
  for (let n = 501; n <= 600; n++) sink.push(event(n));
  assert.ok(await sink.drain(15_000), 'last 100 written');
  assert.equal(await calls(admin, 'eval'), evals, 'once reloaded, the script goes by its SHA again');
  assert.ok(await calls(admin, 'evalsha') > evalshaBefore);
  const entries = await admin.xrange(keys.events('s'), '-', '+');
  const sequences = entries.map(([, f]) => Number(f[f.indexOf('sequence') + 1]));
  assert.deepEqual(sequences, Array.from({ length: 600 }, (_, i) => i + 1));
});
