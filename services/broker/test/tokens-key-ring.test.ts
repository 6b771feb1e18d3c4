import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createKeyRing, keyRingConfigSchema } from '../src/tokens/index.js';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');

test('round trip, with the AAD bound to the ciphertext', () => {
  const ring = createKeyRing({ keys: [{ id: 'k1', key: k1 }], primary: 'k1' });
  const ct = ring.encrypt('secret-token', 'gtb:{sales}:token');
  assert.match(ct, /^v1\.k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.ok(!ct.includes('secret-token'));
  assert.equal(ring.decrypt(ct, 'gtb:{sales}:token'), 'secret-token');
  assert.notEqual(ring.encrypt('secret-token', 'gtb:{sales}:token'), ct, 'a fresh IV each time');
  // Copied to another profile's key, it does not decrypt.
  assert.throws(() => ring.decrypt(ct, 'gtb:{support}:token'), { code: 'ERR_DECRYPT' });
});

test('a tampered ciphertext, tag or format → ERR_DECRYPT', () => {
  const ring = createKeyRing({ keys: [{ id: 'k1', key: k1 }], primary: 'k1' });
  const ct = ring.encrypt('secret-token', 'aad');
  const parts = ct.split('.');
  const flip = (s: string) => {
    const b = Buffer.from(s, 'base64url');
    b[0] = b[0]! ^ 1;
    return b.toString('base64url');
  };
  for (const i of [2, 3, 4]) {
    const bad = [...parts];
    bad[i] = flip(bad[i]!);
    assert.throws(() => ring.decrypt(bad.join('.'), 'aad'), { code: 'ERR_DECRYPT' });
  }
  for (const junk of ['', 'v1', 'v2.k1.a.b.c', 'v1.k1.a.b', 'not a ciphertext']) {
    assert.throws(() => ring.decrypt(junk, 'aad'), { code: 'ERR_DECRYPT' });
  }
});

test('kid rotation: a new primary writes with its kid, old ciphertexts stay readable until the old key is dropped', () => {
  const before = createKeyRing({ keys: [{ id: 'k1', key: k1 }], primary: 'k1' });
  const old = before.encrypt('t-old', 'aad');
  const during = createKeyRing({ keys: [{ id: 'k1', key: k1 }, { id: 'k2', key: k2 }], primary: 'k2' });
  assert.equal(during.decrypt(old, 'aad'), 't-old');
  const fresh = during.encrypt('t-new', 'aad');
  assert.equal(fresh.split('.')[1], 'k2');
  const after = createKeyRing({ keys: [{ id: 'k2', key: k2 }], primary: 'k2' });
  assert.equal(after.decrypt(fresh, 'aad'), 't-new');
  assert.throws(() => after.decrypt(old, 'aad'), { code: 'ERR_DECRYPT' });
});

test('a bad configuration is refused without showing a key', () => {
  const attempts = [
    { keys: [], primary: 'k1' },
    { keys: [{ id: 'k1', key: randomBytes(16).toString('base64') }], primary: 'k1' },
    { keys: [{ id: 'k1', key: k1 }], primary: 'k9' },
    { keys: [{ id: 'k1', key: k1 }, { id: 'k1', key: k2 }], primary: 'k1' },
    { keys: [{ id: 'bad.kid', key: k1 }], primary: 'bad.kid' },
  ];
  for (const config of attempts) {
    assert.equal(keyRingConfigSchema.safeParse(config).success, false);
    assert.throws(() => createKeyRing(config), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_CONFIG_INVALID');
      assert.ok(!err.message.includes(k1) && !err.message.includes(k2));
      return true;
    });
  }
});
