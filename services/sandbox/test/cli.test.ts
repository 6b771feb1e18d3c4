import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { waitFor } from '../../../test/support/wait.js';
import { readSandboxConfig, toSandboxOptions } from '../src/config.js';

test('config: SANDBOX_* variables, id:secret pairs and JSON client lists', () => {
  const config = readSandboxConfig({ SANDBOX_PORT: '0', SANDBOX_CLIENTS: 'a:s1, b:s2', SANDBOX_HEARTBEAT_INTERVAL_MS: '500', SANDBOX_ADMIN_KEY: 'k'.repeat(16) });
  const options = toSandboxOptions(config);
  assert.equal(options.port, 0);
  assert.equal(options.heartbeatIntervalMs, 500);
  assert.deepEqual(options.clients, [{ clientId: 'a', clientSecret: 's1' }, { clientId: 'b', clientSecret: 's2' }]);
  const json = readSandboxConfig({ SANDBOX_CLIENTS: '[{"clientId":"c","clientSecret":"s","tokenLifetimeSeconds":600}]' });
  assert.equal(json.clients[0]?.tokenLifetimeSeconds, 600);
  assert.throws(() => readSandboxConfig({ SANDBOX_CLIENTS: 'nocolon' }), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => readSandboxConfig({ SANDBOX_PORT: '70000' }), { code: 'ERR_CONFIG_INVALID' });
});

test('the CLI listens, serves pre-created clients, logs no secret, and stops on SIGTERM', async (t) => {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main, '--port', '0', '--clients', 'cli-app:cli-secret-value'], {
    env: { ...process.env, SANDBOX_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('the ready line', () => out.includes('sandbox ready'), { timeoutMs: 15_000, intervalMs: 10 });
  const url = /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1];
  assert.ok(url);
  const res = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('cli-app:cli-secret-value').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  assert.equal(res.status, 200);
  const token = ((await res.json()) as { access_token: string }).access_token;
  await waitFor('the mint log line', () => out.includes('token minted'), { intervalMs: 10 });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.equal(out.includes(token), false, 'token never logged');
  assert.equal(out.includes('cli-secret-value'), false, 'secret never logged');
});
