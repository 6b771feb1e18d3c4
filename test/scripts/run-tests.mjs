// The project's one test command (`npm test`, run by .ci/run): Redis, build, typecheck, lint, then
// every test file of every package in one node:test run, so that there is one summary to read.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureRedis } from './ensure-redis.mjs';
import { ensureTools } from './ensure-tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
process.chdir(root);
// The streamer's 60 s soak at 1,000 events/s (issue 5) is part of the full run; set STREAMER_SOAK=0 to skip it.
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

await ensureRedis();
ensureTools();
step('build', 'npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);
step('typecheck', 'npx', ['turbo', 'run', 'typecheck', '--output-logs=errors-only']);
step('typecheck infra', 'npx', ['tsc', '-p', 'infra/tsconfig.json', '--noEmit']);
step('lint', 'npx', ['eslint', '--max-warnings=0', '.']);
const files = testFiles();
console.log(`\n== test: ${files.length} files`);
step('test', process.execPath, [
  '--conditions=source', '--import', 'tsx',
  '--test', '--test-concurrency=2', '--test-timeout=180000',
  ...files,
]);
