import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, fingerprint, redactSecrets, redactUri } from '../src/index.js';

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

test('redaction reaches three levels, child bindings and headers, and never changes the caller\'s objects', () => {
  const { lines, stream } = capture();
  const log = createLogger({ name: 't', destination: stream, base: { password: 'BASE-PW' } });
  const payload = {
    token: 'T-1',
    req: { headers: { authorization: 'Bearer H-1', cookie: 'C-1', 'x-sandbox-key': 'K-1', accept: 'json' } },
    lease: { holder: 'app', id_token: 'ID-1' },
    err: Object.assign(new Error('boom'), { code: 'E1' }),
    count: 3,
  };
  const before = structuredClone({ ...payload, err: undefined });
  log.child({ secret: 'CHILD-S', component: 'x' }).warn(payload, 'm');
  const text = JSON.stringify(lines);
  for (const secret of ['T-1', 'H-1', 'C-1', 'K-1', 'ID-1', 'CHILD-S', 'BASE-PW']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  const line = lines[0]!;
  assert.equal(line.token, '[redacted]');
  assert.deepEqual((line.req as { headers: unknown }).headers, { authorization: '[redacted]', cookie: '[redacted]', 'x-sandbox-key': '[redacted]', accept: 'json' });
  assert.equal(line.component, 'x');
  assert.equal(line.count, 3);
  assert.equal((line.err as { message: string; code: string }).message, 'boom', 'errors still go through pino\'s serializer');
  assert.deepEqual({ ...payload, err: undefined }, before, 'the logged object is unchanged');
});

test('redactSecrets copies only what it must', () => {
  const clean = { a: 1, b: { c: 'x', d: { e: 2 } } };
  assert.equal(redactSecrets(clean), clean, 'nothing to hide: the same object');
  const mixed = { keep: { x: 1 }, hide: { clientSecret: 's' } };
  const out = redactSecrets(mixed);
  assert.notEqual(out, mixed);
  assert.equal(out.keep, mixed.keep, 'untouched branches are shared');
  assert.deepEqual(out.hide, { clientSecret: '[redacted]' });
  assert.equal(mixed.hide.clientSecret, 's');
  const deep = { a: { b: { c: { token: 'deeper than three levels' } } } };
  assert.equal(redactSecrets(deep), deep, 'the walk stops at three levels');
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
