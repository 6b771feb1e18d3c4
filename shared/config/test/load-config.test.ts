import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { z } from 'zod';
import { loadConfig } from '../src/index.js';

const schema = z.object({
  http: z.object({ port: z.number().int().min(0).max(65535).default(8080) }).default({ port: 8080 }),
  redis: z.object({ url: z.string().url() }),
  profiles: z.array(z.object({ name: z.string().min(1), clientSecret: z.string().min(1) })).default([]),
  debug: z.boolean().default(false),
});

function tmp(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'gtb-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('reads YAML, applies env overrides, resolves secret files, freezes', (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'secret.txt'), 's3cret\n');
  writeFileSync(join(dir, 'c.yaml'), 'redis:\n  url: redis://127.0.0.1:6379\nprofiles:\n  - name: a\n    clientSecretFile: secret.txt\n');
  const cfg = loadConfig(schema, {
    file: join(dir, 'c.yaml'),
    envPrefix: 'T_',
    env: { T_HTTP__PORT: '9000', T_DEBUG: 'true', OTHER: 'x' },
  });
  assert.equal(cfg.http.port, 9000);
  assert.equal(cfg.debug, true);
  assert.equal(cfg.profiles[0]!.clientSecret, 's3cret');
  assert.ok(Object.isFrozen(cfg.profiles[0]));
  assert.throws(() => { (cfg as { debug: boolean }).debug = false; }, TypeError);
});

test('secrets from the environment through …Env', () => {
  const cfg = loadConfig(schema, {
    envPrefix: 'T_',
    base: { redis: { url: 'redis://h:1' }, profiles: [{ name: 'a', clientSecretEnv: 'MY_SECRET' }] },
    env: { MY_SECRET: 'xyz' },
  });
  assert.equal(cfg.profiles[0]!.clientSecret, 'xyz');
});

test('an error names every bad setting and where it came from', () => {
  assert.throws(
    () => loadConfig(schema, { envPrefix: 'T_', env: { T_REDIS__URL: 'not a url', T_HTTP__PORT: '70000' } }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_CONFIG_INVALID');
      assert.match(err.message, /redis\.url: .*environment variable T_REDIS__URL/);
      assert.match(err.message, /http\.port: .*environment variable T_HTTP__PORT/);
      return true;
    },
  );
});

test('a missing file, bad YAML, a missing secret file or env var are clear errors', (t) => {
  const dir = tmp(t);
  assert.throws(() => loadConfig(schema, { envPrefix: 'T_', file: join(dir, 'nope.yaml'), env: {} }), { code: 'ERR_CONFIG_FILE' });
  writeFileSync(join(dir, 'bad.yaml'), 'a: [1, 2\n');
  assert.throws(() => loadConfig(schema, { envPrefix: 'T_', file: join(dir, 'bad.yaml'), env: {} }), { code: 'ERR_CONFIG_FILE' });
  writeFileSync(join(dir, 'list.yaml'), '- 1\n- 2\n');
  assert.throws(() => loadConfig(schema, { envPrefix: 'T_', file: join(dir, 'list.yaml'), env: {} }), { code: 'ERR_CONFIG_FILE' });
  assert.throws(
    () => loadConfig(schema, { envPrefix: 'T_', env: {}, base: { redis: { url: 'redis://h:1' }, profiles: [{ name: 'a', clientSecretFile: join(dir, 'missing') }] } }),
    (err: Error & { code?: string }) => err.code === 'ERR_CONFIG_FILE' && /profiles\.0\.clientSecretFile/.test(err.message),
  );
  assert.throws(
    () => loadConfig(schema, { envPrefix: 'T_', env: {}, base: { redis: { url: 'redis://h:1' }, profiles: [{ name: 'a', clientSecretEnv: 'NOPE' }] } }),
    { code: 'ERR_CONFIG_INVALID' },
  );
});

test('the config file can come from <PREFIX>CONFIG_FILE', (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'c.json'), JSON.stringify({ redis: { url: 'redis://127.0.0.1:1' } }));
  const cfg = loadConfig(schema, { envPrefix: 'T_', env: { T_CONFIG_FILE: join(dir, 'c.json') } });
  assert.equal(cfg.redis.url, 'redis://127.0.0.1:1');
});

test('env overrides cannot pollute prototypes', () => {
  loadConfig(schema, { envPrefix: 'T_', env: { T_REDIS__URL: 'redis://h:1', T___PROTO____POLLUTED: 'yes' } });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
