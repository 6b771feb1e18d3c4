import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createLogger, fixedLine, turnDestination, type Logger } from '../src/index.js';

function capture() {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } });
  return { chunks, stream };
}

// Strings pino escapes differently by length and content: short and long, quotes, backslashes,
// control characters, non-ASCII, a lone surrogate, an emoji, an empty string.
const STRINGS = ['', 'plain', 'a"quote', 'back\\slash', 'tab\tnew\nline\r', '\u0000\u001f\u007f', 'é ü 漢字', '\ud800 lone', '😀 pair',
  'x'.repeat(41), 'y'.repeat(42), `${'z'.repeat(60)}"`, '</script>', 'rule sales grants sales'];
const NUMBERS = [0, -0, 1, -7, 3.25, 1e21, 1e-7, Number.MAX_SAFE_INTEGER, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];

/** The same values through pino and through the fixed line, on the same logger and stream, at a frozen clock. */
function both(logger: Logger, chunks: string[], write: () => void, viaPino: () => void): [string, string] {
  const before = chunks.length;
  viaPino();
  write();
  assert.equal(chunks.length, before + 2, 'each call wrote one line');
  return [chunks[before]!, chunks[before + 1]!];
}

test('a fixed-shape line is byte for byte what pino writes for the same logger and values', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_790_000_000_123 });
  const { chunks, stream } = capture();
  const root = createLogger({ name: 'broker', destination: stream, base: { instance: 'i-1"x' } });
  const child = root.child({ component: 'policy' });
  for (const logger of [root, child]) {
    const line = fixedLine(logger, 'info', ['requestId', 'method', 'path', 'status', 'ms', 'allowed']);
    let count = 0;
    for (const s of STRINGS) {
      for (const n of NUMBERS) {
        for (const b of [true, false, undefined]) {
          const values = { requestId: s, method: 'GET', path: `/v1/tokens/${s}`, status: n, ms: count % 3 === 0 ? undefined : n, allowed: b };
          const msg = count % 2 === 0 ? 'request' : s;
          const [viaPino, viaFixed] = both(logger, chunks, () => line(values, msg), () => logger.info(values, msg));
          assert.equal(viaFixed, viaPino);
          count += 1;
        }
      }
    }
    assert.ok(count > 400);
  }
  // The audit line's shape, with a missing clientId and rule as a denial has them.
  const audit = fixedLine(child, 'info', ['audit', 'action', 'issuer', 'subject', 'clientId', 'tokenFingerprint', 'profile', 'rule', 'allowed', 'reason']);
  const denial = { audit: true, action: 'profile', issuer: 'https://idp.example/', subject: 'app-1', clientId: undefined, tokenFingerprint: 'fp:abc', profile: 'sales', rule: undefined, allowed: false, reason: 'no rule allows: sales (groupsAny)' };
  const [viaPino, viaFixed] = both(child, chunks, () => audit(denial, 'access denied'), () => child.info(denial, 'access denied'));
  assert.equal(viaFixed, viaPino);
  assert.match(viaFixed, /^\{"level":"info","time":"2026-[^"]+","pid":\d+,"instance":"i-1\\"x","name":"broker","component":"policy","audit":true,"action":"profile",/);
});

test('a fixed-shape line follows the logger\'s level, refuses secret keys, and leaves other values to pino', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_790_000_000_456 });
  const { chunks, stream } = capture();
  const logger = createLogger({ name: 't', level: 'warn', destination: stream });
  const line = fixedLine(logger, 'info', ['a', 'b']);
  line({ a: 'x', b: 1 }, 'quiet');
  assert.equal(chunks.length, 0, 'info is off at warn');
  logger.level = 'info';
  line({ a: 'x', b: 1 }, 'now');
  assert.equal(chunks.length, 1);
  // A value that is not a flat scalar goes through pino (and its redaction) unchanged.
  const nested = { a: { token: 'T-SECRET', keep: 1 }, b: 2 } as unknown as { a: string; b: number };
  line(nested, 'nested');
  logger.info(nested, 'nested');
  assert.equal(chunks[1], chunks[2]);
  assert.ok(!chunks[1]!.includes('T-SECRET'));
  assert.throws(() => fixedLine(logger, 'info', ['requestId', 'token']), /secret key/);
  assert.throws(() => fixedLine(logger, 'info', ['a"b']), /escaping/);
});

test('a logger that is not a plain one (multistream, mixin) gets pino\'s own line', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_790_000_000_789 });
  const { chunks, stream } = capture();
  const multi = createLogger({ name: 'm', destination: pino.multistream([{ stream }]) });
  const line = fixedLine(multi, 'info', ['a']);
  line({ a: 'x' }, 'one');
  multi.info({ a: 'x' }, 'one');
  assert.equal(chunks.length, 2);
  assert.equal(chunks[0], chunks[1]);
  const mixed = pino({ mixin: () => ({ extra: 1 }) }, stream);
  const mixedLine = fixedLine(mixed, 'info', ['a']);
  mixedLine({ a: 'y' }, 'two');
  mixed.info({ a: 'y' }, 'two');
  assert.equal(chunks[2], chunks[3]);
  assert.match(chunks[2]!, /"extra":1/);
});

test('the turn destination writes a turn\'s lines together at the turn\'s end, and at once when flushed', async () => {
  const { mkdtempSync, readFileSync, openSync, closeSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'turn-dest-'));
  const file = join(dir, 'log');
  const fd = openSync(file, 'a');
  try {
    const dest = turnDestination({ fd, maxPending: 100 });
    dest.write('a\n');
    dest.write('b\n');
    assert.equal(readFileSync(file, 'utf8'), '', 'nothing written before the turn ends');
    await new Promise((r) => setImmediate(r));
    assert.equal(readFileSync(file, 'utf8'), 'a\nb\n');
    dest.write('c\n');
    dest.flushSync();
    assert.equal(readFileSync(file, 'utf8'), 'a\nb\nc\n', 'flushSync writes now');
    dest.write(`${'x'.repeat(120)}\n`);
    assert.equal(readFileSync(file, 'utf8').length, 6 + 121, 'past maxPending the lines are written at once');
    await new Promise((r) => setImmediate(r));
    assert.equal(readFileSync(file, 'utf8').length, 6 + 121, 'and not twice');
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

