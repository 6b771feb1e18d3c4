import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import helmet from 'helmet';
import { memoryLogger, startSystem, waitUntilReady, type TestSystem } from '../../../test/support/system.js';
import { brokerConfigSchema } from '../src/config.js';
import { startBroker, type RunningBroker } from '../src/compose.js';
import { securityHeadersOf } from '../src/http/token-fast-path.js';

// Two more replicas on the system's Redis prefix (so they share its tokens): `fast` with the hit
// path's in-memory answer (the default), `full` with every request through the Express stack.
let sys: TestSystem;
let fast: RunningBroker;
let full: RunningBroker;
let fastLog: string[];
const PER_MINUTE = 40;

before(async () => {
  sys = await startSystem();
  const start = async (instanceId: string, http: Record<string, unknown>) => {
    const { logger, lines } = memoryLogger('info');
    const config = brokerConfigSchema.parse({ ...sys.rawConfig, instanceId, http: { ...(sys.rawConfig['http'] as object), ...http }, rateLimit: { perMinute: PER_MINUTE } });
    const broker = await startBroker({ config, logger });
    await waitUntilReady(broker.url);
    return { broker, lines };
  };
  const a = await start('fast', {});
  const b = await start('full', { fastPath: false });
  fast = a.broker;
  fastLog = a.lines;
  full = b.broker;
});
after(async () => {
  await Promise.allSettled([fast?.stop(), full?.stop()]);
  await sys?.close();
});

const auth = async (client: 'app' | 'admin' | 'stranger' | 'streamer') => ({ authorization: `Bearer ${await sys.tokenFor(client)}` });

/** One counter's value from a broker's /metrics (0 when the series does not exist yet). */
async function metric(broker: RunningBroker, series: string): Promise<number> {
  const text = await (await fetch(`${broker.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
const FAST = 'gtb_http_fast_path_total';
const OK_SERIES = 'gtb_http_requests_total{route="/v1/tokens/:profile",method="GET",status="200"}';

/** The lines of a memory log that match `fields`. */
function logLines(lines: string[], fields: Record<string, unknown>): Record<string, unknown>[] {
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => Object.entries(fields).every(([k, v]) => l[k] === v));
}

/** Not near the end of the limit's one-minute window, so that counts cannot reset mid-test. */
async function wellInsideWindow(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 45_000) await new Promise((r) => setTimeout(r, 60_000 - into + 200));
}

test('helmet\'s headers are recorded from helmet itself', () => {
  const pairs = securityHeadersOf(helmet());
  const names = pairs.filter((_v, i) => i % 2 === 0).map((n) => n.toLowerCase());
  assert.ok(names.includes('content-security-policy') && names.includes('strict-transport-security') && names.includes('x-content-type-options'), names.join(','));
  assert.ok(!names.includes('x-powered-by'));
  assert.throws(() => securityHeadersOf((_req, _res, _next) => undefined), /did not finish/);
});

/**
 * One GET over a fresh socket, as the bytes came back: status line, every header in the order and
 * case the server wrote them, and the body (`Connection: close`, so the answer ends with the socket).
 */
function rawGet(base: string, path: string, headers: Record<string, string>): Promise<Buffer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    const lines = [`GET ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'Connection: close', '', ''];
    socket.write(lines.join('\r\n'));
  });
}

test('the in-memory answer is the full stack\'s answer, byte for byte: status line, headers in order, body', async () => {
  const headers = await auth('app');
  const first = await fetch(`${fast.url}/v1/tokens/sales`, { headers }); // identity not cached here yet: full stack
  assert.equal(first.status, 200);
  await first.arrayBuffer();
  // Both replicas share the caller's count (Redis), so `remaining=` differs by what each counted; the
  // Date header, `reset=` and `expires_in` are whole seconds, equal unless the pair straddles a
  // second: a pair that does is asked again (a real difference shows in every attempt).
  const remaining = /remaining=(\d+)/;
  let viaFull = '';
  let viaFast = '';
  for (let attempt = 0; attempt < 6; attempt++) {
    const requestId = `cmp-${attempt}.a_b`;
    const fastBefore = await metric(fast, FAST);
    const [a, b] = await Promise.all([
      rawGet(full.url, '/v1/tokens/sales', { ...headers, 'X-Request-Id': requestId }),
      rawGet(fast.url, '/v1/tokens/sales', { ...headers, 'X-Request-Id': requestId }),
    ]);
    assert.equal(await metric(fast, FAST), fastBefore + 1, 'the fast replica answered from memory');
    [viaFull, viaFast] = [a.toString('latin1'), b.toString('latin1')];
    for (const text of [viaFull, viaFast]) {
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(text, new RegExp(`\r\nRateLimit: limit=${PER_MINUTE}, remaining=\\d+, reset=\\d+\r\n`));
      assert.ok(text.includes(`\r\nX-Request-Id: ${requestId}\r\n`), 'a well-formed request id is echoed');
    }
    [viaFull, viaFast] = [viaFull.replace(remaining, 'remaining=N'), viaFast.replace(remaining, 'remaining=N')];
    if (viaFull === viaFast) break;
    await new Promise((r) => setTimeout(r, 137));
  }
  assert.equal(viaFast, viaFull);
  // The same headers as the full stack, helmet's among them, and nothing of Express's own.
  assert.match(viaFast, /\r\nContent-Security-Policy: /);
  assert.match(viaFast, /\r\nStrict-Transport-Security: /);
  assert.doesNotMatch(viaFast, /X-Powered-By/i);
});

test('a query is ignored as Express ignores it; a path Express matches and the hit path does not is answered by the full stack', async () => {
  const headers = await auth('app');
  await (await fetch(`${fast.url}/v1/tokens/sales`, { headers })).arrayBuffer();
  const before = await metric(fast, FAST);
  const withQuery = await fetch(`${fast.url}/v1/tokens/sales?x=1`, { headers });
  assert.equal(withQuery.status, 200);
  assert.equal((await withQuery.json() as { profile: string }).profile, 'sales');
  assert.equal(await metric(fast, FAST), before + 1, 'answered from memory');
  // Express routes are case-insensitive and decode the parameter: the same answer, through the full stack.
  for (const path of ['/V1/TOKENS/sales', '/v1/tokens/sa%6Ces']) {
    const res = await fetch(`${fast.url}${path}`, { headers });
    assert.equal(res.status, 200, path);
    assert.equal((await res.json() as { profile: string }).profile, 'sales');
  }
  assert.equal(await metric(fast, FAST), before + 1, 'not from memory');
});

test('each request is counted, audited and logged once, whichever path answers it', async () => {
  const headers = await auth('admin');
  const n = 12;
  const [okBefore, fastBefore] = [await metric(fast, OK_SERIES), await metric(fast, FAST)];
  const logFrom = fastLog.length;
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${fast.url}/v1/tokens/sales`, { headers });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  }
  assert.equal((await metric(fast, OK_SERIES)) - okBefore, n, 'gtb_http_requests_total counts each once');
  assert.equal((await metric(fast, FAST)) - fastBefore, n - 1, 'all but the first (its IdP token not verified yet) answered from memory');
  const lines = fastLog.slice(logFrom);
  assert.equal(logLines(lines, { audit: true, subject: 'ops-admin', profile: 'sales', allowed: true }).length, n, 'one audit line per request');
  assert.equal(logLines(lines, { msg: 'request', path: '/v1/tokens/sales', status: 200 }).length, n, 'one request line per request');
  const idpToken = await sys.tokenFor('admin');
  assert.equal(lines.filter((l) => l.includes(idpToken)).length, 0, 'no IdP token in any line');
});

test('a caller that calls rarely is answered from memory too (its count synced with Redis first)', async () => {
  const headers = await auth('app');
  await (await fetch(`${fast.url}/v1/tokens/sales`, { headers })).arrayBuffer();
  const before = await metric(fast, FAST);
  const remaining: number[] = [];
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 150)); // past the store's 100 ms sync interval: the count is stale each time
    const res = await fetch(`${fast.url}/v1/tokens/sales`, { headers });
    assert.equal(res.status, 200);
    remaining.push(Number(/remaining=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1]));
    await res.arrayBuffer();
  }
  assert.equal(await metric(fast, FAST), before + 3);
  assert.deepEqual(remaining, [remaining[0]!, remaining[0]! - 1, remaining[0]! - 2], 'counted once each');
});

test('the per-caller limit holds on the fast path: exactly the limit, then 429', async () => {
  await wellInsideWindow();
  const headers = await auth('streamer'); // a caller no other test uses: its count starts at 0
  const statuses: number[] = [];
  const remaining: number[] = [];
  for (let i = 0; i < PER_MINUTE + 5; i++) {
    const res = await fetch(`${fast.url}/v1/tokens/sales`, { headers });
    statuses.push(res.status);
    const m = /remaining=(\d+)/.exec(res.headers.get('ratelimit') ?? '');
    if (res.status === 200 && m) remaining.push(Number(m[1]));
    await res.arrayBuffer();
  }
  assert.deepEqual(statuses, [...Array<number>(PER_MINUTE).fill(200), ...Array<number>(5).fill(429)]);
  assert.deepEqual(remaining, Array.from({ length: PER_MINUTE }, (_x, i) => PER_MINUTE - 1 - i), 'RateLimit counts down by one per request');
  assert.ok(await metric(fast, FAST) > 0);
});

test('what memory cannot decide goes the full way: denial, unknown, malformed, HEAD, revoked token', async () => {
  const logFrom = fastLog.length;
  // Warm the stranger's identity, then ask twice: both denied by the full path, each audited once.
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${fast.url}/v1/tokens/sales`, { headers: await auth('stranger') });
    assert.equal(res.status, 403);
    assert.equal((await res.json() as { code: string }).code, 'ERR_PROFILE_NOT_ALLOWED');
  }
  assert.equal(logLines(fastLog.slice(logFrom), { audit: true, subject: 'stranger', allowed: false }).length, 2);

  const admin = await auth('admin');
  const unknown = await fetch(`${fast.url}/v1/tokens/nope`, { headers: admin });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.equal((await unknown.json() as { code: string }).code, 'ERR_PROFILE_UNKNOWN');
  const malformed = await fetch(`${fast.url}/v1/tokens/bad%7Bname%7D`, { headers: admin });
  assert.equal(malformed.status, 400);
  await malformed.arrayBuffer();
  const head = await fetch(`${fast.url}/v1/tokens/sales`, { method: 'HEAD', headers: admin });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
  const wrongScheme = await fetch(`${fast.url}/v1/tokens/sales`, { headers: { authorization: (await auth('admin')).authorization.replace('Bearer', 'Basic') } });
  assert.equal(wrongScheme.status, 401);
  await wrongScheme.arrayBuffer();

  // A revoke empties every replica's L1 (pub/sub); the next request mints once, through the full path.
  const remainingOf = (res: Response) => Number(/remaining=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1]);
  // The app calls, the admin revokes: the revoke (on the other replica) must not count against the
  // caller whose RateLimit is read (the limit is shared; when the fast replica syncs it is timing).
  const app = await auth('app');
  const heldRes = await fetch(`${fast.url}/v1/tokens/sales`, { headers: app });
  const remaining = [remainingOf(heldRes)];
  const held = await heldRes.json() as { access_token: string };
  const revoke = await fetch(`${full.url}/v1/profiles/sales/token`, { method: 'DELETE', headers: admin });
  assert.equal(revoke.status, 204, await revoke.clone().text());
  const fastBefore = await metric(fast, FAST);
  let next: { access_token: string } | undefined;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${fast.url}/v1/tokens/sales`, { headers: app });
    remaining.push(remainingOf(res));
    next = await res.json() as { access_token: string };
    if (next.access_token !== held.access_token) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(next && next.access_token !== held.access_token, 'the revoked token is not served from memory');
  assert.equal(await metric(fast, FAST), fastBefore + remaining.length - 2, 'the request that found L1 empty went the full way');
  // That request was counted by the fast path and handed on: the full path's limiter did not count it again.
  assert.deepEqual(remaining, remaining.map((_r, i) => remaining[0]! - i), `RateLimit counts one per request: ${remaining.join(',')}`);
  const me = await fetch(`${sys.sandbox.url}/api/v2/tokens/me`, { headers: { authorization: `Bearer ${next.access_token}` } });
  assert.equal(me.status, 200);
  await me.arrayBuffer();
});

test('a replica shutting down refuses token requests it could answer from memory', async () => {
  const admin = await auth('admin');
  for (let i = 0; i < 2; i++) await (await fetch(`${fast.url}/v1/tokens/sales`, { headers: admin })).arrayBuffer();
  fast.broker.beginShutdown();
  const res = await fetch(`${fast.url}/v1/tokens/sales`, { headers: admin });
  assert.equal(res.status, 503);
  assert.equal((await res.json() as { code: string }).code, 'ERR_SHUTTING_DOWN');
});
