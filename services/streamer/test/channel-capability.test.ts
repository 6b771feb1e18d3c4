import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fingerprint } from '@gtb/logger';
import { waitFor } from '../../../test/support/wait.js';
import { createOpsServer } from '../src/index.js';
import { startStreamSystem, STREAM, TOPIC } from './support/stream-system.js';

// Debug lines too: a channel id in a debug line leaks as surely as one at info.
process.env.STREAMER_TEST_LOG ??= 'debug';

test('no channel id and no connect URI leave the process: /readyz, /metrics, logs, lifecycle events, output entries', { timeout: 60_000 }, async (t) => {
  // Channels live 4 s, so expiry rollovers happen on their own; a second stream runs on fewer topics
  // than asked (its channel's rejected-topics line), and the test adds a noticed close and a drop.
  const sys = await startStreamSystem({ sandbox: { channelLifetimeMs: 4_000 }, allowedTopics: ['v2.routing.queues.*'] });
  t.after(() => sys.close());
  // The real channel ids, as Genesys (the sandbox) knows them: every channel that had a socket.
  const ids = new Set<string>();
  const learn = () => { for (const id of sys.sandbox.admin.connectedChannels()) ids.add(id); };
  const poll = setInterval(learn, 10);
  t.after(() => clearInterval(poll));

  const s = await sys.startStreamer({
    streams: [
      { name: STREAM, profile: 'sales', topics: [TOPIC] },
      { name: 'partial', profile: 'sales', topics: [TOPIC, 'v2.users.u1.presence'], allowPartialTopics: true },
    ],
  });
  const server = createOpsServer(s.streamer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const served: string[] = [];
  const scrape = async () => {
    for (const path of ['/readyz', '/metrics', '/healthz']) served.push(await (await fetch(`${base}${path}`)).text());
  };

  await waitFor('ready', () => s.streamer.health().ready, { timeoutMs: 15_000 });
  await scrape();
  const generating = sys.sandbox.admin.generateEvents({ topic: TOPIC, count: 600, ratePerSecond: 100 });
  await sleep(1_000);
  for (const id of sys.sandbox.admin.connectedChannels()) sys.sandbox.admin.closeSocket(id, { notice: true });
  await sleep(1_500);
  await scrape();
  assert.ok((sys.sandbox.admin.injectFault({ type: 'drop' }).dropped ?? 0) >= 1);
  await waitFor('ready again after the drop', () => s.streamer.health().ready, { timeoutMs: 15_000 });
  await generating;
  await sleep(4_500); // at least one expiry rollover after the drop
  await scrape();
  await waitFor('the last event written', async () => (await sys.output()).some((e) => e.sequence === 600), { timeoutMs: 15_000 });
  learn();
  // Last, as the stream cannot recover from it here: revoking the tokens sends
  // `v2.system.token_revoked.<channel id>` on the live sockets (the channel id in the topic).
  const logged = s.lines.length;
  assert.ok(sys.sandbox.admin.revokeToken({ clientId: sys.clientId }) >= 1);
  await waitFor('the token_revoked notice', () => s.lines.slice(logged).some((l) => l.includes('system message') && l.includes('token_revoked')), { timeoutMs: 10_000 });
  await s.stop(); // its shutdown lines count too

  const lifecycle = (await sys.redis.xrange(`${sys.prefix}:lifecycle`, '-', '+')).map(([, fields]) => fields.join(' '));
  const output = (await sys.redis.xrange(`${sys.prefix}:events:{${STREAM}}`, '-', '+')).map(([, fields]) => fields.join(' '));
  const partial = (await sys.redis.xrange(`${sys.prefix}:events:{partial}`, '-', '+')).map(([, fields]) => fields.join(' '));
  const types = new Set(lifecycle.map((text) => /"type":"([a-z_.]+)"/.exec(text)?.[1]));
  for (const type of ['stream.connected', 'stream.dropped', 'stream.rolled_over', 'stream.gap']) assert.ok(types.has(type), `no ${type} to look into`);
  assert.ok(ids.size >= 4, `only ${ids.size} channels seen`);
  assert.ok(output.length >= 300 && partial.length > 0 && s.lines.length > 0 && served.length === 9, `${output.length} output entries`);
  assert.ok(s.lines.some((l) => l.includes('rejected topics')), 'the rejected-topics line is among those scanned');

  const places = { served, logs: s.lines, lifecycle, output, partial };
  const connectUri = `${sys.sandbox.wsUrl}/channels/`;
  // A failure shows where, with the ids masked: the test output must not spread them either.
  const masked = (text: string) => [...ids].reduce((x, id) => x.replaceAll(id, `<channel ${fingerprint(id)}>`), text).slice(0, 300);
  for (const [place, texts] of Object.entries(places)) {
    for (const text of texts) {
      assert.ok(!text.includes(connectUri), `a connect URI in ${place}: ${masked(text)}`);
      for (const id of ids) assert.ok(!text.includes(id), `a channel id in ${place}: ${masked(text)}`);
    }
  }
  // What they carry instead: the fingerprints of those very channels.
  const fingerprints = new Set([...ids].map(fingerprint));
  const named = (texts: string[], re: RegExp) => texts.flatMap((x) => [...x.matchAll(re)].map((m) => m[1]!));
  assert.ok(named(served, /"channelFingerprint":"([0-9a-f]{12})"/g).every((f) => fingerprints.has(f)));
  assert.ok(named(served, /"channelFingerprint":"([0-9a-f]{12})"/g).length >= 3);
  assert.ok(named(output, /channel_fingerprint ([0-9a-f]{12})/g).every((f) => fingerprints.has(f)));
  // Every Genesys event names its channel; the streamer's own gap and resync entries (`kind`) have none.
  assert.equal(named(output, /channel_fingerprint ([0-9a-f]{12})/g).length, output.filter((x) => !/ kind stream\.(gap|resync) /.test(x)).length);
  const rolled = named(lifecycle, /"toChannelFingerprint":"([0-9a-f]{12})"/g);
  assert.ok(rolled.length >= 2 && rolled.every((f) => fingerprints.has(f)));
});
