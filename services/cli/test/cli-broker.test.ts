import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startSystem, CLIENTS } from '../../../shared/client/test/system-harness.js';
import { deadUrl } from '../../../shared/client/test/contract-server.js';
import { EXIT } from '../src/exit-codes.js';
import { runCli as runCliInProcess } from '../src/cli.js';
import { runCli } from './run-cli.js';

const sha12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

test('gtb token, leases and rotate against a running system', async (t) => {
  const sys = await startSystem(t);
  const app = { GTB_URL: sys.broker.url, GTB_TOKEN: await sys.tokenFor('app') };
  const ops = { GTB_URL: sys.broker.url, GTB_TOKEN: await sys.tokenFor('ops') };

  const creds = { GTB_URL: sys.broker.url, GTB_IDP_ISSUER: sys.idp.issuer, GTB_IDP_CLIENT_ID: CLIENTS.app.client_id, GTB_IDP_CLIENT_SECRET: CLIENTS.app.client_secret };
  const [plain, json, viaCreds] = await Promise.all([runCli(['token', 'sales'], app), runCli(['token', 'sales', '--json'], app), runCli(['token', 'sales'], creds)]);
  assert.equal(plain.code, EXIT.OK, plain.stderr);
  const token = plain.stdout.trim();
  assert.equal(plain.stdout, `${token}\n`, 'only the token, for piping');

  assert.equal(json.code, EXIT.OK);
  const body = JSON.parse(json.stdout) as Record<string, unknown>;
  assert.equal(body['access_token'], token);
  assert.equal(body['fingerprint'], sha12(token));
  assert.equal(body['api_base_url'], sys.sandbox.url);

  // The same thing through IdP client credentials (openid-client discovery + grant).
  assert.equal(viaCreds.code, EXIT.OK, viaCreds.stderr);
  assert.equal(viaCreds.stdout.trim(), token);

  const rotated = await runCli(['rotate', 'sales'], ops);
  assert.equal(rotated.code, EXIT.OK, rotated.stderr);
  assert.ok(!rotated.stdout.includes(token));
  const fresh = await runCli(['token', 'sales', '--json'], app);
  const freshBody = JSON.parse(fresh.stdout) as { access_token: string; fingerprint: string };
  assert.match(rotated.stdout, new RegExp(`rotated sales: new token ${freshBody.fingerprint}`));
  assert.ok(!rotated.stdout.includes(freshBody.access_token), 'rotate never prints the token');

  const lease = await fetch(`${sys.broker.url}/v1/leases`, { method: 'POST', headers: { authorization: `Bearer ${app.GTB_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ profile: 'sales', holder: 'cli-test/holder' }) });
  assert.equal(lease.status, 201);
  const leases = await runCli(['leases'], ops);
  assert.equal(leases.code, EXIT.OK, leases.stderr);
  assert.match(leases.stdout, /cli-test\/holder/);
  const leasesJson = JSON.parse((await runCli(['leases', '--json'], ops)).stdout) as { leases: { holder: string }[] };
  assert.deepEqual(leasesJson.leases.map((l) => l.holder), ['cli-test/holder']);
  assert.ok(![leases.stdout, leases.stderr].some((s) => s.includes(freshBody.access_token)));
});

test('gtb errors and exit codes', async (t) => {
  const sys = await startSystem(t);
  const appToken = await sys.tokenFor('app');
  const app = { GTB_URL: sys.broker.url, GTB_TOKEN: appToken };
  const ops = { GTB_URL: sys.broker.url, GTB_TOKEN: await sys.tokenFor('ops') };
  type Case = [string, string[], Record<string, string>, number, string];
  // As a child process: what a script sees, exit code included.
  const spawned: Case[] = [
    ['no command argument', ['token'], app, EXIT.USAGE, 'ERR_USAGE'],
    ['no broker URL', ['token', 'sales'], { GTB_TOKEN: appToken }, EXIT.CONFIG, 'ERR_CONFIG_INVALID'],
    ['unreachable broker', ['token', 'sales'], { ...app, GTB_URL: await deadUrl() }, EXIT.UNAVAILABLE, 'ERR_BROKER_UNREACHABLE'],
    ['denied profile', ['token', 'support'], app, EXIT.NOT_ALLOWED, 'ERR_PROFILE_NOT_ALLOWED'],
    ['unknown profile', ['token', 'nope'], ops, EXIT.NOT_FOUND, 'ERR_PROFILE_UNKNOWN'],
    ['bad IdP token', ['token', 'sales'], { ...app, GTB_TOKEN: 'garbage' }, EXIT.AUTH, 'ERR_IDP_TOKEN_'],
    ['wrong client secret', ['token', 'sales'], { GTB_URL: sys.broker.url, GTB_IDP_ISSUER: sys.idp.issuer, GTB_IDP_CLIENT_ID: 'app', GTB_IDP_CLIENT_SECRET: 'wrong' }, EXIT.AUTH, 'ERR_IDP_CREDENTIALS_REJECTED'],
    ['admin command as app', ['leases'], app, EXIT.NOT_ALLOWED, 'ERR_ADMIN_REQUIRED'],
  ];
  // In process (same runCli the executable calls), to keep the suite fast on two cores.
  const inProcess: Case[] = [
    ['unknown option', ['token', 'sales', '--bogus'], app, EXIT.USAGE, 'ERR_USAGE'],
    ['unknown command', ['frobnicate'], app, EXIT.USAGE, 'ERR_USAGE'],
    ['option of another command', ['token', 'sales', '--since', '1h'], app, EXIT.USAGE, 'ERR_USAGE'],
    ['no identity', ['token', 'sales'], { GTB_URL: sys.broker.url }, EXIT.CONFIG, 'ERR_CONFIG_INVALID'],
    ['invalid profile name', ['token', '../x'], app, EXIT.USAGE, 'ERR_VALIDATION'],
    ['rotate as app', ['rotate', 'sales'], app, EXIT.NOT_ALLOWED, 'ERR_ADMIN_REQUIRED'],
  ];
  const results: Awaited<ReturnType<typeof runCli>>[] = [];
  // Four at a time: CI has two cores, and each run starts a Node process.
  for (let i = 0; i < spawned.length; i += 4) {
    results.push(...await Promise.all(spawned.slice(i, i + 4).map(([, args, env]) => runCli([...args, '--json'], env))));
  }
  for (const [, args, env] of inProcess) {
    let stdout = '';
    let stderr = '';
    const code = await runCliInProcess([...args, '--json'], { env, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
    results.push({ code, stdout, stderr });
  }
  [...spawned, ...inProcess].forEach(([name, , , exit, code], i) => {
    const r = results[i]!;
    assert.equal(r.code, exit, `${name}: ${r.stderr}`);
    const err = (JSON.parse(r.stderr) as { error: { code: string } }).error;
    assert.ok(err.code.startsWith(code), `${name}: ${err.code}`);
    assert.equal(r.stdout, '', `${name}: nothing on stdout`);
    assert.ok(!r.stderr.includes(appToken), `${name}: no token in errors`);
  });
  const human = await runCli(['token', 'support'], app);
  assert.equal(human.code, EXIT.NOT_ALLOWED);
  assert.match(human.stderr, /ERR_PROFILE_NOT_ALLOWED[\s\S]*fix:/);
  const help = await runCli(['--help'], {});
  assert.equal(help.code, EXIT.OK);
  assert.match(help.stdout, /Exit codes/);
});
