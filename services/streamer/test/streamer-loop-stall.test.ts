// A blocked event loop (a long GC pause, a starved CPU) is the streamer's own pause, not the
// peer's silence: the watchdog's late check must not terminate a socket whose frames are waiting.
// Found by the soak on a loaded machine ("no heartbeat or pong for 1332 ms" with a 900 ms timeout).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../../test/support/wait.js';
import { checkSequences, startStreamSystem, TOPIC } from './support/stream-system.js';

/** Blocks this process's event loop (the streamer's and the sandbox's) for `ms`. */
function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* busy: nothing else runs */ }
}

test('an event loop blocked for twice the watchdog timeout drops no socket and opens no gap', { timeout: 60_000 }, async (t) => {
  const sys = await startStreamSystem();
  t.after(() => sys.close());
  // TEST_TIMING: terminated after 650 + 250 ms without a frame; the blocks below last 2,000 ms.
  const s = await sys.startStreamer();
  await waitFor('ready', () => s.streamer.health().ready, { timeoutMs: 15_000 });
  const fp = s.streamer.health().streams[0]!.channelFingerprint;
  const count = 1_000;
  const generating = sys.sandbox.admin.generateEvents({ topic: TOPIC, count, ratePerSecond: 200 });
  for (let i = 0; i < 2; i++) {
    await sleep(1_000);
    blockLoop(2_000);
  }
  await generating;
  await waitFor('all written', async () => (await sys.output()).length >= count, { timeoutMs: 20_000 });
  await sleep(1_500); // past a watchdog verdict and a ping interval
  assert.equal(s.streamer.health().streams[0]!.channelFingerprint, fp, 'the same socket throughout');
  const dropped = (await sys.lifecycle(['stream.dropped'])).map((e) => e.data as { planned: boolean; reason: string });
  assert.deepEqual(dropped.filter((d) => !d.planned).map((d) => d.reason), []);
  assert.deepEqual(s.gaps, []);
  assert.deepEqual(checkSequences((await sys.output()).map((e) => e.sequence), count), { missing: [], duplicated: [] });
});
