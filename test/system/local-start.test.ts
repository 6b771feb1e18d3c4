// The README's first command, end to end: `npm start` on free ports and a private Redis, then the
// copy-paste commands it prints, run with bash exactly as a newcomer would paste them, then Ctrl-C.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startPrivateRedis } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import { signInWithPassword } from '../support/password-sign-in.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const READY_LINE = 'Ctrl-C stops everything.';

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;

/** The printed guide's commands: `\`-continued lines joined, comments and blanks dropped. */
function parseGuide(stdout: string): string[] {
  const start = stdout.indexOf('Try it (copy and paste):');
  const end = stdout.indexOf(READY_LINE);
  assert.ok(start >= 0 && end > start, `no command guide in the output:\n${stdout}`);
  const commands: string[] = [];
  let pending = '';
  for (const raw of stdout.slice(start, end).split('\n').slice(1)) {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trimEnd()} `;
      continue;
    }
    commands.push(pending + line);
    pending = '';
  }
  return commands;
}

/** `npm start`'s command line, read from package.json so that the test follows what npm runs. */
async function startCommand(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const line = pkg.scripts['start'] ?? '';
  assert.match(line, /^node [^'"$;&|]+$/, `npm start is a plain node command line: ${line}`);
  return line.split(/\s+/);
}

/** True when nothing listens on `port` (binding it succeeds). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(true)));
  });
}

/** The environment of a fresh terminal: none of the settings the guide is supposed to give. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GTB_') || k === 'REDIS_URL' || k.startsWith('NODE_TEST')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

interface StepResult { command: string; rc: number; out: string; err: string }

/**
 * Runs the commands in ONE bash (variables and `export`s carry over, as in a terminal), each
 * with its output captured to its own files so that each can be checked on its own.
 */
async function runInOneShell(commands: string[], dir: string, env: NodeJS.ProcessEnv): Promise<StepResult[]> {
  const script = commands.map((c, i) => `{ ${c}\n} >${dir}/out.${i} 2>${dir}/err.${i} </dev/null; echo $? >${dir}/rc.${i}`).join('\n');
  await writeFile(join(dir, 'guide.sh'), `${script}\n`);
  const res = spawnSync('bash', [join(dir, 'guide.sh')], { cwd: ROOT, env, timeout: 60_000, encoding: 'utf8' });
  assert.equal(res.status, 0, `bash failed: ${res.error?.message ?? ''} ${res.stderr}`);
  return Promise.all(commands.map(async (command, i) => ({
    command,
    rc: Number((await readFile(join(dir, `rc.${i}`), 'utf8').catch(() => '-1')).trim()),
    out: await readFile(join(dir, `out.${i}`), 'utf8').catch(() => ''),
    err: await readFile(join(dir, `err.${i}`), 'utf8').catch(() => ''),
  })));
}

/** Exit code once `child` has ended, or undefined after `ms`. */
function exitWithin(child: ChildProcess, ms: number): Promise<number | string | undefined> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode ?? undefined);
  return new Promise((r) => {
    const timer = setTimeout(() => r(undefined), ms);
    child.once('exit', (code, signal) => { clearTimeout(timer); r(code ?? signal ?? undefined); });
  });
}

test('npm start runs the system and every command it prints works; Ctrl-C stops it cleanly', { timeout: 90_000 }, async (t) => {
  const missing = ['curl', 'redis-cli'].filter((b) => !has(b));
  if (missing.length) {
    t.skip(`${missing.join(' and ')} not installed: the printed guide cannot be followed`);
    return;
  }
  // A private Redis: npm start writes under the real `gtb:` prefix, which must not touch 6379.
  const redis = await startPrivateRedis();
  t.after(() => redis.stop());
  const dir = await mkdtemp(join(tmpdir(), 'gtb-local-start-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ports = { BROKER_PORT: await freePort(), SANDBOX_PORT: await freePort(), IDP_PORT: await freePort(), STREAMER_PORT: await freePort() };

  // The node command behind `npm start` (npm itself ends by re-raising SIGINT, so its exit code
  // would say nothing about start.ts), in its own process group, so that SIGINT reaches start.ts
  // and the broker together as Ctrl-C does.
  const [bin, ...args] = await startCommand();
  const start = spawn(bin === 'node' ? process.execPath : bin!, args, {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: cleanEnv({ REDIS_URL: redis.url, GTB_LOCAL_DIR: join(dir, 'state'), ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) }),
  });
  let stdout = '';
  let stderr = '';
  start.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  start.stderr.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-8000); });
  const group = start.pid!;
  t.after(async () => {
    if (start.exitCode === null && start.signalCode === null) {
      try { process.kill(-group, 'SIGKILL'); } catch { /* already gone */ }
      await exitWithin(start, 5000);
    }
  });

  await waitFor('npm start to print its guide', async () => {
    if (start.exitCode !== null) throw new Error(`npm start exited (${start.exitCode}):\n${stdout}\n${stderr}`);
    return stdout.includes(READY_LINE);
  }, { timeoutMs: 60_000, intervalMs: 100 }).catch((err: Error) => { throw new Error(`${err.message}\n${stdout}\n${stderr}`); });
  assert.match(stdout, new RegExp(`redis +${redis.url.replace(/[/.]/g, '\\$&')}`));
  // The operator console: its URL and the dev user, and the page's sign-in settings answer.
  const consoleLine = /console +(http:\/\/\S+\/console\/) \(operator console: sign in as operator \/ (\S+);/.exec(stdout);
  assert.ok(consoleLine, `npm start prints the console URL and the dev user:\n${stdout}`);
  const consoleConfig = await (await fetch(`${consoleLine[1]}config.json`)).json() as { clientId: string; issuer: string };
  assert.equal(consoleConfig.clientId, 'gtb-console');
  // Signing in as the printed users works at the dev IdP (infra/dev-idp): the operator is an admin at
  // the broker, the viewer is refused; the IdP offers the sign-out the console's Sign out uses.
  const idpLine = /idp +(http:\/\/\S+) \(development IdP, infra\/dev-idp/.exec(stdout);
  assert.equal(idpLine?.[1], consoleConfig.issuer, 'the console signs in at the dev IdP npm start runs');
  const discovery = await (await fetch(`${consoleConfig.issuer}/.well-known/openid-configuration`)).json() as { end_session_endpoint?: string };
  assert.ok(discovery.end_session_endpoint, 'the dev IdP offers RP-initiated logout');
  const signInAs = async (username: string) => (await signInWithPassword({
    issuer: consoleConfig.issuer, clientId: 'gtb-console', redirectUri: `${consoleLine[1]}callback`, username, password: consoleLine[2]!,
  })).accessToken;
  const profilesAs = async (username: string) => fetch(`${consoleLine[1]!.replace(/\/console\/$/, '')}/v1/profiles`, { headers: { authorization: `Bearer ${await signInAs(username)}` } });
  const asOperator = await profilesAs('operator');
  assert.equal(asOperator.status, 200);
  assert.deepEqual(((await asOperator.json()) as { profiles: { name: string }[] }).profiles.map((p) => p.name), ['sales']);
  const asViewer = await profilesAs('viewer');
  assert.equal(asViewer.status, 403);
  assert.equal(((await asViewer.json()) as { code: string }).code, 'ERR_ADMIN_REQUIRED');

  const commands = parseGuide(stdout);
  // Step 3 blocks by design ("in another terminal"): it runs beside the others, as a second terminal.
  const watchCommand = commands.find((c) => c.includes('PSUBSCRIBE'));
  assert.ok(watchCommand, 'the guide shows how to tail lifecycle events');
  const bashEnv = cleanEnv({});
  const watcher = spawn('bash', ['-c', watchCommand], { cwd: ROOT, env: bashEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let watched = '';
  watcher.stdout.setEncoding('utf8').on('data', (d: string) => { watched += d; });
  t.after(async () => { watcher.kill('SIGTERM'); await exitWithin(watcher, 3000); });
  await waitFor('the PSUBSCRIBE of step 3 to be subscribed', async () => watched.includes('psubscribe'), { timeoutMs: 10_000, intervalMs: 100 });

  const steps = await runInOneShell(commands.filter((c) => c !== watchCommand), dir, bashEnv);
  const step = (what: string, pick: (c: string) => boolean) => {
    const s = steps.find((x) => pick(x.command));
    assert.ok(s, `the guide has a command to ${what}`);
    assert.equal(s.rc, 0, `${what}: \`${s.command}\` exited ${s.rc}\n${s.out}\n${s.err}`);
    return s;
  };

  // 1. the app's token, 2. the RFC 8693 exchange of the same IdP token.
  const token = JSON.parse(step('get a token', (c) => c.includes('/v1/tokens/sales')).out) as Record<string, unknown>;
  assert.equal(typeof token['access_token'], 'string');
  assert.equal(token['token_type'], 'Bearer');
  assert.equal(token['profile'], 'sales');
  assert.match(String(token['fingerprint']), /^[0-9a-f]{12}$/);
  const exchanged = JSON.parse(step('exchange a token', (c) => c.includes('/oauth2/token')).out) as Record<string, unknown>;
  assert.equal(exchanged['issued_token_type'], 'urn:ietf:params:oauth:token-type:access_token');
  assert.equal(String(exchanged['token_type']).toLowerCase(), 'bearer');
  assert.equal(exchanged['access_token'], token['access_token'], 'the exchange hands out the cached token, no new mint');

  // 4. rotation answers with a new fingerprint; the sandbox counted the first mint and the rotation.
  const rotated = JSON.parse(step('rotate', (c) => c.startsWith('curl') && c.includes('/rotate')).out) as Record<string, unknown>;
  assert.match(String(rotated['fingerprint']), /^[0-9a-f]{12}$/);
  assert.notEqual(rotated['fingerprint'], token['fingerprint']);
  const counters = JSON.parse(step('read the sandbox counters', (c) => c.includes('__sandbox/counters')).out) as { tokensMinted: Record<string, number> };
  assert.deepEqual(Object.values(counters.tokensMinted), [2], 'one mint for the first token, one for the rotation');

  // 5. the gtb CLI, with the guide's `export` line applied (the test's own env has none of it).
  const cli = steps.filter((s) => s.command.includes('npm run -s gtb'));
  assert.equal(cli.length, 5, 'token, rotate, leases, events tail, doctor');
  for (const s of cli) assert.equal(s.rc, 0, `\`${s.command}\` exited ${s.rc}\n${s.out}\n${s.err}`);
  const cliToken = step('print a token with the CLI', (c) => c.endsWith('gtb -- token sales')).out.trim();
  assert.match(cliToken, /^\S{20,}$/);
  const cliRotate = step('rotate with the CLI', (c) => c.endsWith('gtb -- rotate sales')).out;
  const cliFingerprint = /([0-9a-f]{12})/.exec(cliRotate)?.[1];
  assert.ok(cliFingerprint && cliFingerprint !== rotated['fingerprint'], `a new fingerprint: ${cliRotate}`);
  // The events tail must read THIS system's Redis: it shows the rotation made a moment ago.
  const tail = step('tail events with the CLI', (c) => c.includes('events tail')).out;
  assert.match(tail, new RegExp(`token\\.rotated.*${String(rotated['fingerprint'])}`));
  assert.match(step('run the doctor', (c) => c.includes('doctor')).out, /all checks passed/);

  // 6. the durable stream holds the events; step 3's subscriber saw them live.
  const xrange = step('read the event stream', (c) => c.includes('XRANGE')).out;
  assert.match(xrange, /"type":"token\.minted"/);
  assert.match(xrange, new RegExp(`"type":"token\\.rotated".*"fingerprint":"${String(rotated['fingerprint'])}"`));
  await waitFor('step 3 to show the rotation', async () => watched.includes('gtb:lifecycle:token.rotated'), { timeoutMs: 10_000, intervalMs: 100 });
  assert.doesNotMatch(`${stdout}${watched}${xrange}${tail}`, new RegExp(String(token['access_token'])), 'no token in the output');

  // 7. the streamer forwarded the sandbox's notification events into the Redis Stream, each once.
  const generated = JSON.parse(step('generate notification events', (c) => c.includes('__sandbox/events')).out) as { sent: number; firstSequence: number };
  assert.equal(generated.sent, 5);
  const forwarded = step('read the notification stream', (c) => c.includes('gtb:events:{sales-presence}')).out;
  const sequences = [...forwarded.matchAll(/"eventBody":\{[^\n]*?"sequence":(\d+)/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  assert.deepEqual(sequences, [1, 2, 3, 4, 5], `each event once in the stream:\n${forwarded}`);

  // Ctrl-C: everything stops, exit 0, and the ports are free again.
  process.kill(-group, 'SIGINT');
  const code = await exitWithin(start, 15_000);
  assert.equal(code, 0, `start ended with ${String(code)} after SIGINT\n${stdout.slice(-500)}\n${stderr}`);
  assert.match(stdout, /stopped\s*$/);
  for (const [name, port] of Object.entries(ports)) {
    await waitFor(`${name} ${port} to be free`, () => portIsFree(port), { timeoutMs: 5_000, intervalMs: 100 });
  }
});
