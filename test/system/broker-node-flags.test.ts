// The broker's Node flags and variables (issue 15: resident memory) are written once, in the runtime
// stage of infra/docker/broker.Dockerfile. These checks fail when the Kubernetes Deployment or compose
// override them, when the benchmark would launch its brokers differently, or when a flag is one that
// Node 20 or Node 24 refuses. The streamer Deployment, likewise, runs its image's command as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { brokerRuntime, parseBrokerRuntime } from '../../infra/docker/broker-runtime.js';
import { benchBrokerRuntime, brokerLaunch } from '../bench/lib/broker-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const INFRA = join(ROOT, 'infra');

interface Container { name: string; image?: string; command?: string[]; args?: string[]; env?: { name: string; value?: string }[] }

/** The first container of the Deployment in a manifest of infra/k8s. */
function deploymentContainer(file: string): Container {
  const docs = parseAllDocuments(readFileSync(join(INFRA, 'k8s', file), 'utf8'), { version: '1.1' }).map((d) => d.toJS() as { kind: string; spec: { template: { spec: { containers: Container[] } } } });
  const deployment = docs.find((d) => d.kind === 'Deployment');
  assert.ok(deployment, `a Deployment in ${file}`);
  const [container] = deployment.spec.template.spec.containers;
  assert.ok(container, `a container in ${file}`);
  return container;
}

test('broker.Dockerfile: the image runs the built broker with its memory flags', () => {
  const runtime = brokerRuntime();
  assert.equal(runtime.entry, 'services/broker/dist/main.js');
  // The young generation is what made an idle broker's RSS exceed 100 MiB (test/bench/README.md, Memory).
  assert.ok(runtime.nodeArgs.some((a) => /^--max-semi-space-size=\d+$/.test(a)), `a --max-semi-space-size flag in ${runtime.nodeArgs.join(' ')}`);
  assert.equal(runtime.env['NODE_ENV'], 'production');
  for (const a of runtime.nodeArgs) assert.match(a, /^--[a-z0-9-]+(=[\w.-]+)?$/, `${a} is a plain flag`);
});

test('broker runtime parser: exec-form CMD of the last stage, unquoted ENV pairs; refuses other forms', () => {
  const stage = (body: string) => `FROM x AS build\nCMD ["node", "--ignored-in-build-stage", "a.js"]\nENV A=build\nFROM y AS runtime\n${body}`;
  assert.deepEqual(parseBrokerRuntime(stage('ENV NODE_ENV=production \\\n  B=2\nHEALTHCHECK --interval=10s \\\n  CMD ["node", "h.mjs"]\nCMD ["node", "--max-semi-space-size=2", "s/main.js"]\n')),
    { nodeArgs: ['--max-semi-space-size=2'], entry: 's/main.js', env: { NODE_ENV: 'production', B: '2' } });
  assert.throws(() => parseBrokerRuntime(stage('CMD node s/main.js\n')));
  assert.throws(() => parseBrokerRuntime(stage('CMD ["sh", "-c", "node s/main.js"]\n')));
  assert.throws(() => parseBrokerRuntime(stage('CMD ["node", "s/main.js", "--flag"]\n')));
  assert.throws(() => parseBrokerRuntime(stage('ENV A="quoted value"\nCMD ["node", "s/main.js"]\n')));
  assert.throws(() => parseBrokerRuntime(stage('CMD ["node", "a.js"]\nCMD ["node", "b.js"]\n')));
});

test('kubernetes: the broker Deployment runs the image\'s command and sets none of its flags or variables otherwise', () => {
  const runtime = brokerRuntime();
  const broker = deploymentContainer('broker-deployment.yaml');
  // `command` would replace the image's ENTRYPOINT and `args` its CMD, flags included.
  assert.equal(broker.command, undefined, 'no command: the image\'s');
  assert.equal(broker.args, undefined, 'no args: the image\'s CMD with its flags');
  for (const e of broker.env ?? []) {
    // NODE_OPTIONS is read before the command line, so a heap flag there would fight the image's.
    assert.notEqual(e.name, 'NODE_OPTIONS', 'no NODE_OPTIONS: the Node flags are in the image\'s CMD');
    if (e.name in runtime.env) assert.equal(e.value, runtime.env[e.name], `${e.name} as the image sets it`);
  }
});

test('kubernetes: the streamer Deployment runs the streamer image\'s command as it is', () => {
  const streamer = deploymentContainer('streamer-deployment.yaml');
  // A copy of the image's CMD here would keep running the old command after the image changed it.
  assert.equal(streamer.command, undefined, 'no command: the image\'s');
  assert.equal(streamer.args, undefined, 'no args: the image\'s CMD');
  for (const e of streamer.env ?? []) assert.notEqual(e.name, 'NODE_OPTIONS', 'no NODE_OPTIONS');
});

test('compose: the brokers run the image\'s command and set none of its flags or variables otherwise', () => {
  const runtime = brokerRuntime();
  const compose = parse(readFileSync(join(INFRA, 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, { build?: { dockerfile: string }; command?: unknown; entrypoint?: unknown; environment?: Record<string, string> }>;
  };
  const brokers = Object.entries(compose.services).filter(([, s]) => s.build?.dockerfile === 'infra/docker/broker.Dockerfile');
  assert.ok(brokers.length >= 1, 'compose builds brokers from broker.Dockerfile');
  for (const [name, svc] of brokers) {
    assert.equal(svc.command, undefined, `${name}: no command override`);
    assert.equal(svc.entrypoint, undefined, `${name}: no entrypoint override`);
    for (const [k, v] of Object.entries(svc.environment ?? {})) {
      assert.notEqual(k, 'NODE_OPTIONS', `${name}: no NODE_OPTIONS`);
      if (k in runtime.env) assert.equal(v, runtime.env[k], `${name}: ${k} as the image sets it`);
    }
  }
});

test('bench: brokers are launched with the image\'s script, flags and variables, the scenario\'s own flags after them', () => {
  const runtime = brokerRuntime();
  const bench = benchBrokerRuntime({});
  assert.equal(bench.overridden, false);
  assert.deepEqual({ nodeArgs: bench.nodeArgs, entry: bench.entry, env: bench.env }, runtime);
  const launch = brokerLaunch(bench, ['--heapsnapshot-signal=SIGUSR2'], { GTB_BROKER_CONFIG_FILE: '/tmp/x.json' });
  assert.equal(launch.main, join(ROOT, runtime.entry));
  assert.deepEqual(launch.execArgv, [...runtime.nodeArgs, '--heapsnapshot-signal=SIGUSR2']);
  assert.deepEqual(launch.env, { ...runtime.env, GTB_BROKER_CONFIG_FILE: '/tmp/x.json' });
  // The experiment overrides are visible as such.
  const over = benchBrokerRuntime({ BENCH_BROKER_NODE_ARGS: '', BENCH_BROKER_ENV: 'MALLOC_ARENA_MAX=2' });
  assert.deepEqual([over.nodeArgs, over.env, over.overridden], [[], { MALLOC_ARENA_MAX: '2' }, true]);
});

test('the flags are accepted by Node 20 and Node 24 and size the heap as written', () => {
  const { nodeArgs } = brokerRuntime();
  const nodes = [process.execPath, join(ROOT, 'node_modules', 'node', 'bin', 'node')].filter((n) => existsSync(n));
  const semi = nodeArgs.map((a) => /^--max-semi-space-size=(\d+)$/.exec(a)?.[1]).find(Boolean);
  const old = nodeArgs.map((a) => /^--max-old-space-size=(\d+)$/.exec(a)?.[1]).find(Boolean);
  for (const node of nodes) {
    // An unknown or misspelt flag makes node exit with "bad option" before running anything.
    const out = execFileSync(node, [...nodeArgs, '-e', 'const v = require("v8"); console.log(JSON.stringify({ version: process.version, limit: v.getHeapStatistics().heap_size_limit }))'], { encoding: 'utf8' });
    const { version, limit } = JSON.parse(out) as { version: string; limit: number };
    // V8's heap limit is the old generation's plus three semi-spaces (two of the young generation and
    // the room kept for promoting it), so it shows both flags took effect.
    const limitMiB = limit / 2 ** 20;
    if (old && semi) assert.equal(limitMiB, Number(old) + 3 * Number(semi), `${version}: heap limit for --max-old-space-size=${old} --max-semi-space-size=${semi}`);
    else if (old) assert.ok(limitMiB >= Number(old) && limitMiB <= Number(old) + 3 * 64, `${version}: heap limit ${limitMiB} MiB for --max-old-space-size=${old}`);
  }
});
