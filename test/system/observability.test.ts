// Alert rules, dashboards and metrics agree: promtool checks and unit-tests the rules, the
// Operator's PrometheusRule is the rules file, every alert links to a runbook section, every metric
// a rule or panel names exists on a running broker or streamer, and a real Prometheus server scrapes
// both and evaluates a recording rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createOpsServer } from '../../services/streamer/src/index.js';
import { prometheusRuleYaml } from '../../infra/scripts/gen-prometheus-rule.js';
import { startStreamingStack } from '../support/streamer-topology.js';
import { REDIS_URL } from '../support/system.js';
import { waitFor } from '../support/wait.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RULES = join(ROOT, 'infra', 'prometheus', 'gtb-rules.yaml');
const RULE_TESTS = join(ROOT, 'infra', 'prometheus', 'tests', 'gtb-rules.test.yaml');
const DASHBOARDS = ['gtb-broker.json', 'gtb-streamer.json'].map((f) => join(ROOT, 'infra', 'grafana', f));

type Rule = { record?: string; alert?: string; expr: string; annotations?: Record<string, string> };
const groups = () => (parse(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups;
const rules = () => groups().flatMap((g) => g.rules);

function promtool(...args: string[]) {
  const res = spawnSync('promtool', args, { encoding: 'utf8' });
  assert.ok(!res.error, `promtool not found (the test command installs Debian's prometheus package): ${res.error?.message}`);
  return res;
}

/** Every metric name a PromQL expression names (series selectors; `gtb:` recording rules apart). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(gtb_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''));
}
const dashboardExprs = () => DASHBOARDS.flatMap((f) => (JSON.parse(readFileSync(f, 'utf8')) as { panels: { targets: { expr: string }[] }[] }).panels.flatMap((p) => p.targets.map((t) => t.expr)));

test('promtool: the rules file is valid and its unit tests pass (each alert fires and stays quiet when it should)', () => {
  const check = promtool('check', 'rules', RULES);
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const unit = promtool('test', 'rules', RULE_TESTS);
  assert.equal(unit.status, 0, unit.stdout + unit.stderr);
  // Every alert of the rules file has a unit test.
  const tested = new Set([...readFileSync(RULE_TESTS, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
  for (const r of rules()) if (r.alert) assert.ok(tested.has(r.alert), `alert ${r.alert} has a promtool unit test`);
});

test('the PrometheusRule is the rules file, and every alert has a summary and a runbook section', () => {
  assert.equal(readFileSync(join(ROOT, 'infra', 'prometheus', 'prometheus-rule.yaml'), 'utf8'), prometheusRuleYaml(readFileSync(RULES, 'utf8')));
  const runbook = readFileSync(join(ROOT, 'infra', 'docs', 'runbook.md'), 'utf8');
  const anchors = new Set([...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
  const alerts = rules().filter((r) => r.alert);
  assert.ok(alerts.length >= 12);
  for (const r of alerts) {
    assert.ok(r.annotations?.summary, `${r.alert} has a summary`);
    const link = r.annotations?.runbook_url ?? '';
    assert.match(link, /^infra\/docs\/runbook\.md#/, `${r.alert} links to the runbook`);
    assert.ok(anchors.has(link.split('#')[1]!), `${r.alert}: runbook section ${link} exists`);
  }
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('every metric the rules and dashboards name is exported by a running broker or streamer, and Prometheus evaluates the rules against them', { timeout: 120_000 }, async (t) => {
  const stack = await startStreamingStack({ redis: { mode: 'standalone', url: REDIS_URL }, profiles: ['sales'], streams: [{ name: 'queues', profile: 'sales', topics: ['v2.routing.queues.q1.conversations'] }] });
  t.after(() => stack.close());
  const { streamer } = await stack.startStreamer();
  const ops = createOpsServer(streamer);
  await new Promise<void>((resolve) => ops.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => ops.close(resolve)));
  const streamerUrl = `http://127.0.0.1:${(ops.address() as AddressInfo).port}`;
  const broker = stack.brokers[0]!;
  await waitFor('the broker to hold a token (the streamer leased one)', async () => (await (await fetch(`${broker.url}/metrics`)).text()).includes('gtb_token_expires_at_seconds{profile="sales"}'), { timeoutMs: 30_000 });

  // Names exported (with # HELP, samples or not) by either service.
  const exported = new Set<string>();
  for (const url of [broker.url, streamerUrl]) {
    for (const m of (await (await fetch(`${url}/metrics`)).text()).matchAll(/^# HELP (\S+)/gm)) exported.add(m[1]!);
  }
  assert.ok(exported.size > 20);
  const recorded = new Set(rules().flatMap((r) => (r.record ? [r.record] : [])));
  const named = [...rules().map((r) => r.expr), ...dashboardExprs()];
  for (const expr of named) {
    for (const name of metricNames(expr)) assert.ok(exported.has(name), `${name} (in \`${expr}\`) is exported by the broker or the streamer`);
    for (const m of expr.matchAll(/\b(gtb:[a-z0-9_:]+)/g)) assert.ok(recorded.has(m[1]!), `${m[1]} is a recording rule`);
  }

  // A real Prometheus scrapes both and evaluates the recording rule.
  const dir = mkdtempSync(join(tmpdir(), 'gtb-prometheus-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const hostOf = (url: string) => new URL(url).host;
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    `rule_files: [${JSON.stringify(RULES)}]`,
    'scrape_configs:',
    `  - { job_name: gtb-broker, static_configs: [{ targets: [${JSON.stringify(hostOf(broker.url))}] }] }`,
    `  - { job_name: gtb-streamer, static_configs: [{ targets: [${JSON.stringify(hostOf(streamerUrl))}] }] }`,
  ].join('\n'));
  const prometheus = spawn('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  prometheus.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  t.after(() => { prometheus.kill('SIGTERM'); });
  const query = async (q: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
    return (await res.json() as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
  };
  await waitFor('Prometheus to evaluate gtb:token_seconds_left:max', async () => {
    try { return (await query('gtb:token_seconds_left:max')).length > 0; } catch { return false; }
  }, { timeoutMs: 60_000, intervalMs: 500 }).catch((err: Error) => { throw new Error(`${err.message}\nprometheus stderr:\n${stderr}`); });
  const [left] = await query('gtb:token_seconds_left:max');
  assert.equal(left!.metric.profile, 'sales');
  const seconds = Number(left!.value[1]);
  assert.ok(seconds > 3000 && seconds <= 3600, `about an hour left on a fresh token (got ${seconds})`);
  // Both targets are scraped (each on its own schedule, so the streamer's first scrape may come later), and
  // the streamer's series arrive too.
  await waitFor('Prometheus to have scraped both targets', async () => {
    const up = await query('up');
    return up.map((r) => `${r.metric.job}=${r.value[1]}`).sort().join(',') === 'gtb-broker=1,gtb-streamer=1';
  }, { timeoutMs: 30_000, intervalMs: 500 });
  await waitFor('the streamer\'s series in Prometheus', async () => (await query('gtb_streamer_owner')).length > 0, { timeoutMs: 30_000, intervalMs: 500 });
});
