import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, fingerprint, redactUri } from '../src/index.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { lines, stream };
}

test('redacts tokens, secrets, connect URIs and Authorization headers', () => {
  const { lines, stream } = capture();
  const log = createLogger({ name: 't', destination: stream });
  log.info({
    access_token: 'AT-123',
    profile: { clientSecret: 'S-1', name: 'p' },
    channel: { connectUri: 'wss://x/channels/abc' },
    req: { headers: { authorization: 'Bearer abc', host: 'h' } },
  }, 'hello');
  const text = JSON.stringify(lines);
  for (const secret of ['AT-123', 'S-1', 'wss://x/channels/abc', 'Bearer abc']) {
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  }
  assert.equal((lines[0]!.profile as Record<string, unknown>).name, 'p');
  assert.equal(lines[0]!.level, 'info');
});

test('fingerprint is the first 12 hex of SHA-256', () => {
  // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
  assert.equal(fingerprint('abc'), 'ba7816bf8f01');
});

test('redactUri keeps the host and hides the path', () => {
  const out = redactUri('wss://streaming.mypurecloud.com/channels/streaming-2-secret');
  assert.ok(out.startsWith('wss://streaming.mypurecloud.com/'));
  assert.ok(!out.includes('secret'));
  assert.ok(redactUri('not a uri').startsWith('invalid-uri#'));
});
