import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSystem, CLIENTS, REDIS_URL } from '../../../shared/client/test/system-harness.js';
import { waitFor } from '../../../test/support/wait.js';
import { EXIT } from '../src/exit-codes.js';
import { runCli, spawnCli } from './run-cli.js';

test('gtb events tail: stored events with filters, then live ones until Ctrl-C', async (t) => {
  const sys = await startSystem(t);
  const app = { GTB_URL: sys.broker.url, GTB_TOKEN: await sys.tokenFor('app') };
  const ops = { GTB_URL: sys.broker.url, GTB_TOKEN: await sys.tokenFor('ops') };
  const events = { REDIS_URL, GTB_KEY_PREFIX: sys.keyPrefix };
  assert.equal((await runCli(['token', 'sales'], app)).code, EXIT.OK);
  await waitFor('token.minted in the stream', async () => (await sys.redis.xlen(`${sys.keyPrefix}:lifecycle`)) > 0, { intervalMs: 20 });

  const stored = await runCli(['events', 'tail', '--once', '--since', '0', '--json'], events);
  assert.equal(stored.code, EXIT.OK, stored.stderr);
  const types = stored.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
  assert.ok(types.includes('token.minted'), types.join());

  const [none, badType, badSince, noRedis] = await Promise.all([
    runCli(['events', 'tail', '--once', '--type', 'lease.*'], events),
    runCli(['events', 'tail', '--type', 'nope'], events),
    runCli(['events', 'tail', '--since', 'yesterday'], events),
    runCli(['events', 'tail', '--once'], { REDIS_URL: 'redis://127.0.0.1:1', GTB_KEY_PREFIX: sys.keyPrefix }),
  ]);
  assert.equal(none.code, EXIT.OK);
  assert.equal(none.stdout, '');
  assert.equal(badType.code, EXIT.USAGE);
  assert.equal(badSince.code, EXIT.USAGE);
  assert.equal(noRedis.code, EXIT.UNAVAILABLE, noRedis.stderr);

  // Follow: the last event first, then a live token.rotated, then SIGINT ends it with 0.
  const child = spawnCli(['events', 'tail', '-n', '1', '--type', 'token.*'], events);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d; });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  t.after(() => { child.kill('SIGKILL'); });
  await waitFor('the stored event', () => out.includes('token.minted'), { timeoutMs: 15_000, intervalMs: 20 });
  // The subscriber is live once the history is printed; give the rotation a moment to be published.
  const rotate = await runCli(['rotate', 'sales'], ops);
  assert.equal(rotate.code, EXIT.OK, rotate.stderr);
  await waitFor('the live rotation', () => out.includes('token.rotated'), { timeoutMs: 15_000, intervalMs: 20 });
  child.kill('SIGINT');
  assert.equal(await exited, EXIT.OK);
  assert.ok(!out.includes(app.GTB_TOKEN));
});

test('gtb doctor: all green on a healthy system, and says what is wrong otherwise', async (t) => {
  const sys = await startSystem(t);
  const dir = await mkdtemp(join(tmpdir(), 'gtb-doctor-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const good = join(dir, 'broker.json');
  await writeFile(good, JSON.stringify(sys.brokerConfigInput));
  const env = { GTB_URL: sys.broker.url, GTB_IDP_ISSUER: sys.idp.issuer, GTB_IDP_CLIENT_ID: CLIENTS.app.client_id, GTB_IDP_CLIENT_SECRET: CLIENTS.app.client_secret, GTB_BROKER_CONFIG_FILE: good };

  const ok = await runCli(['doctor', '--profile', 'sales', '--json'], env);
  assert.equal(ok.code, EXIT.OK, ok.stdout + ok.stderr);
  const report = JSON.parse(ok.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
  assert.equal(report.ok, true);
  const names = report.checks.map((c) => c.name);
  for (const name of ['broker url', 'identity settings', 'broker config', 'broker health', 'identity token', 'broker accepts identity', 'redis', 'genesys login sales']) {
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  }
  assert.ok(names.some((n) => n.startsWith('idp discovery')));

  const broken = join(dir, 'broken.json');
  const profiles = (sys.brokerConfigInput['profiles'] as { clientSecret: string }[]).map((p) => ({ ...p, clientSecret: 'wrong-secret' }));
  await writeFile(broken, JSON.stringify({ ...sys.brokerConfigInput, redis: { mode: 'standalone', url: 'redis://127.0.0.1:1' }, profiles }));
  const bad = await runCli(['doctor', '--profile', 'support'], { ...env, GTB_BROKER_CONFIG_FILE: broken });
  assert.equal(bad.code, EXIT.FAILURE);
  assert.match(bad.stdout, /FAIL\s+redis[\s\S]*fix:/);
  assert.match(bad.stdout, /FAIL\s+genesys login support[\s\S]*fix: check profiles\[1\]/);
  assert.match(bad.stdout, /FAIL\s+broker accepts identity/);
  assert.ok(!bad.stdout.includes('wrong-secret') && !bad.stdout.includes(CLIENTS.app.client_secret), 'no secret in the report');

  const empty = await runCli(['doctor'], {});
  assert.equal(empty.code, EXIT.FAILURE);
  assert.match(empty.stdout, /FAIL\s+broker url\s+GTB_URL is not set/);
});
