// Generated HTTP requests against a running broker and a running sandbox: odd methods, paths (NUL,
// %ff, overlong UTF-8, `..`), headers (huge and repeated Authorization), query strings, bodies of
// random bytes, JSON, forms and truncated JSON up to about 1 MB, any content type. Every answer
// must be a client error or a documented 503/504; every broker error a problem+json with a code
// of the catalogue (an RFC 6749 body on /oauth2/token); the process lives on and its heap stays
// flat. FUZZ_SEED and FUZZ_RUNS (default 1500) choose the run; FUZZ_RUNS=100000 for a long one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { ERROR_CATALOGUE, isErrorCode } from '@gtb/errors';
import { startSandbox } from '@gtb/sandbox';
import { CLIENTS, startSystem } from '../../../test/support/system.js';
import { waitFor } from '../../../test/support/wait.js';
import { openApiDocument } from '../src/openapi.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
const SANDBOX_KEY = 'test-admin-key';
/** Heap growth allowed over the run, after a full GC: caches are bounded, so a leak shows as steady growth past this. */
const HEAP_GROWTH_LIMIT = 64 * 1024 * 1024;

/** A full GC, made callable at run time (the suite runs without --expose-gc). */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** The sandbox's routes (method and path template, in the OpenAPI form the broker's use). */
const SANDBOX_ROUTES: Route[] = [
  ['POST', '/oauth/token'], ['GET', '/api/v2/tokens/me'], ['DELETE', '/api/v2/tokens/me'], ['POST', '/api/v2/notifications/channels'],
  ['GET', '/api/v2/notifications/channels'], ['GET', '/api/v2/notifications/availabletopics'],
  ['GET', '/api/v2/notifications/channels/{channelId}/subscriptions'], ['PUT', '/api/v2/notifications/channels/{channelId}/subscriptions'],
  ['POST', '/api/v2/notifications/channels/{channelId}/subscriptions'], ['DELETE', '/api/v2/notifications/channels/{channelId}/subscriptions'],
  ['POST', '/__sandbox/clients'], ['POST', '/__sandbox/events'], ['POST', '/__sandbox/faults'], ['DELETE', '/__sandbox/faults'],
  ['GET', '/__sandbox/counters'], ['POST', '/__sandbox/channels/{channelId}/expire'], ['POST', '/__sandbox/channels/{channelId}/close'],
  ['POST', '/__sandbox/tokens/revoke'], ['POST', '/__sandbox/reset'],
].map(([m, p]) => ({ method: m!, template: p! }));
/** The broker's routes, from its OpenAPI document (which a test keeps equal to the app's routes). */
const BROKER_ROUTES: Route[] = Object.entries(openApiDocument.paths).flatMap(([template, item]) => Object.keys(item).map((m) => ({ method: m.toUpperCase(), template })));

interface Route { method: string; template: string }

interface FuzzRequest {
  target: 'broker' | 'sandbox';
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body: Buffer | undefined;
  [fc.toStringMethod]?: () => string;
}

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** One request over a fresh connection, path and header bytes exactly as given (fetch would normalize them). */
function send(base: string, r: FuzzRequest): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: r.method, path: r.path, headers: r.headers, agent: false, timeout: 30_000 }, (res) => {
      // A server-sent-events answer lasts as long as the caller's IdP token: its status and headers are the answer.
      if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.alloc(0) });
        req.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', reject);
    req.end(r.body);
  });
}

// Path segments: names, ids, traversal and encodings a parser may choke on (NUL, %ff, overlong
// "/" and ".", lone surrogates, broken escapes), and long ones.
const segment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('sales', 'nope', 'SALES', randomUUID(), '00000000-0000-0000-0000-000000000000') },
  { weight: 4, arbitrary: fc.constantFrom('..', '.', '%2e%2e', '%00', '%ff', '%c0%af', '%c0%ae%c0%ae', '%e0%80%af', '%ed%a0%80', '%', '%zz', '%25', '%2f', '..%2f..%2fetc', 'a%00b', '\u00ff', '%u0000', '') },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.nat(9000).map((n) => 'a'.repeat(n)) },
);
/** Latin-1 bytes Node lets into a request line (no space, no control character). */
const rawPathChar = fc.integer({ min: 0x21, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c));

const fillTemplate = (template: string) => fc.array(segment, { minLength: 3, maxLength: 3 }).map((segs) => {
  let i = 0;
  return template.replace(/\{[^}]+\}/g, () => segs[i++ % segs.length]!);
});

const query = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.array(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 30 })), { maxLength: 6 }).map((kv) => `?${kv.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`) },
  { weight: 1, arbitrary: fc.constantFrom('?', '?&&', '?a[b]=1&a[c]=2', '?__proto__[x]=1', '?constructor[prototype][x]=1', '?%00=%ff', '?a=%', `?x=${'y'.repeat(4000)}`) },
);

const tail = fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '//', '/..', '/.', '%2f', '.json') });

const pathOf = (template: string) => fc.tuple(fillTemplate(template), tail, query).map(([p, t, q]) => `${p}${t}${q}`);

const oddPath = fc.oneof(
  fc.array(rawPathChar, { maxLength: 60 }).map((cs) => `/${cs.join('')}`),
  fc.constantFrom('/', '*', '//v1//tokens//sales', '/v1/tokens/sales/../../healthz', '/V1/TOKENS/SALES', '/oauth2/token/', '/OAUTH2/TOKEN', '/v1/./leases', '/v1/tokens/%2e%2e%2fhealthz'),
);

const method = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND', 'M-SEARCH', 'PURGE', 'LOCK');

/** Mostly a route's own method and path (with odd segments), else any method on it, else any path. */
const methodAndPath = (routes: Route[]) => fc.oneof(
  { weight: 7, arbitrary: fc.constantFrom(...routes).chain((r) => pathOf(r.template).map((path) => ({ method: r.method, path }))) },
  { weight: 2, arbitrary: fc.tuple(method, fc.constantFrom(...routes).chain((r) => pathOf(r.template))).map(([m, path]) => ({ method: m, path })) },
  { weight: 1, arbitrary: fc.tuple(method, oddPath).map(([m, path]) => ({ method: m, path })) },
);

const jsonText = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.record({ profile: fc.oneof(fc.constantFrom('sales', 'nope', '..', ''), fc.string()), holder: fc.oneof(fc.string(), fc.constant('fuzz')), ttl_seconds: fc.oneof(fc.integer(), fc.double(), fc.constant(1e308)), fingerprint: fc.string() }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
  fc.constantFrom('{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '[]', 'null', '"x"', '1e999', `${'['.repeat(5000)}${']'.repeat(5000)}`),
);

const formText = fc.array(fc.tuple(
  fc.oneof(fc.constantFrom('grant_type', 'subject_token', 'subject_token_type', 'audience', 'resource', 'requested_token_type', 'actor_token', 'scope'), fc.string({ maxLength: 10 })),
  fc.oneof(fc.constantFrom('urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:token-type:access_token', 'sales', 'nope', 'client_credentials', ''), fc.string({ maxLength: 40 })),
), { maxLength: 30 }).map((kv) => kv.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));

const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: jsonText.map((s) => Buffer.from(s)) },
  { weight: 2, arbitrary: formText.map((s) => Buffer.from(s)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.tuple(jsonText, fc.nat()).map(([s, n]) => Buffer.from(s.slice(0, n % Math.max(1, s.length)))) },
  // Large bodies, past every route's limit (8 kB JSON, 32 kB forms), up to about 1 MB.
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 8 * 1024, max: 1024 * 1024 }), fc.constantFrom('{', 'a', '=', '\u00e9')).map(([n, c]) => Buffer.from(c.repeat(n))) },
);

const contentType = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', 'application/x-www-form-urlencoded; charset=utf-8') },
  { weight: 3, arbitrary: fc.constantFrom('application/json; charset=utf-16', 'application/json; charset=koi8-r', 'application/json; charset=nonsense', 'text/plain', 'multipart/form-data; boundary=x', 'application/problem+json', '*/*', 'application/', ';;;', 'application/x-www-form-urlencoded; charset=iso-8859-1', 'application/json;charset="utf-8', 'APPLICATION/JSON') },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).filter((s) => /^[\x20-\x7e]*$/.test(s)) },
);

/** Header values Node will send: printable ASCII and Latin-1, no CR/LF. */
const headerValue = (max: number) => fc.string({ unit: 'binary-ascii', maxLength: max }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x').trim());

interface Callers { app: string; admin: string; stranger: string }

const authorization = (callers: Callers, junk: string[]) => fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constantFrom(`Bearer ${callers.app}`, `Bearer ${callers.admin}`, `Bearer ${callers.stranger}`) },
  { weight: 2, arbitrary: fc.constantFrom(...junk.map((j) => `Bearer ${j}`)) },
  { weight: 2, arbitrary: fc.oneof(headerValue(200), headerValue(200).map((s) => `Bearer ${s}`), fc.constantFrom('Bearer', 'Bearer ', 'bearer  x', 'Basic Zm9vOmJhcg==', `Bearer ${callers.app}x`, `Bearer ${callers.app.split('.').slice(0, 2).join('.')}.`)) },
  // Huge: within and past Node's 16 kB header limit.
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 64_000 }).map((n) => `Bearer ${'A'.repeat(n)}`) },
  // Repeated: two Authorization headers on one request.
  { weight: 1, arbitrary: fc.constantFrom<string[]>([`Bearer ${callers.app}`, 'Bearer junk'], ['Bearer junk', `Bearer ${callers.admin}`], [`Bearer ${callers.app}`, `Bearer ${callers.app}`]) },
);

function requestArb(target: 'broker' | 'sandbox', callers: Callers, junk: string[], sandboxToken: string) {
  const auth: fc.Arbitrary<string | string[] | undefined> = target === 'broker'
    ? authorization(callers, junk)
    : fc.oneof(fc.constant(undefined), fc.constant(`Bearer ${sandboxToken}`), fc.constant('Basic Zm9vOmJhcg=='), headerValue(100));
  return fc.record({
    route: methodAndPath(target === 'broker' ? BROKER_ROUTES : SANDBOX_ROUTES),
    auth,
    contentType,
    body,
    extra: fc.array(fc.tuple(fc.constantFrom('x-forwarded-for', 'x-request-id', 'accept', 'content-encoding', 'transfer-encoding-x', 'cookie', 'origin', 'x-sandbox-key', 'accept-charset'), headerValue(300)), { maxLength: 3 }),
    sandboxKey: fc.boolean(),
  }).map(({ route: { method: m, path }, auth: a, contentType: ct, body: b, extra, sandboxKey }): FuzzRequest => {
    const headers: OutgoingHttpHeaders = {};
    for (const [k, v] of extra) headers[k] = v;
    // An array sends the header once per value (Node's types allow only one Authorization).
    if (a !== undefined) (headers as Record<string, string | string[]>)['authorization'] = a;
    if (ct !== undefined) headers['content-type'] = ct;
    if (target === 'sandbox' && sandboxKey) headers['x-sandbox-key'] = SANDBOX_KEY;
    // Node refuses a body on these methods only when it has no length; give it one.
    if (b !== undefined) headers['content-length'] = String(b.length);
    // How a failing request is printed: its shape, not kilobytes of header or body.
    const summary = () => {
      const shown = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v).length > 80 ? `${String(v).slice(0, 60)}…(${String(v).length} chars)` : v]));
      return `${target} ${m} ${path.length > 200 ? `${path.slice(0, 200)}…(${path.length} chars)` : path} ${JSON.stringify(shown)} body ${b === undefined ? 'none' : `${b.length} bytes: ${JSON.stringify(b.subarray(0, 60).toString('latin1'))}`}`;
    };
    return { target, method: m, path, headers, body: b, [fc.toStringMethod]: summary };
  });
}

/** The size of a request's header section, near enough. */
const headerBytes = (r: FuzzRequest) => r.path.length + Object.entries(r.headers).reduce((n, [k, v]) => n + k.length + String(v).length + 4, 0);

/** RFC 6749 §5.2 and RFC 8693 error values the token endpoint may answer. */
const OAUTH_ERRORS = new Set(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'invalid_target', 'slow_down', 'temporarily_unavailable', 'server_error']);

/** What is wrong with a broker answer, or undefined. */
function brokerAnswerProblem(r: Pick<FuzzRequest, 'method' | 'path'>, a: Answer): string | undefined {
  if (a.status >= 500 && a.status !== 503 && a.status !== 504) return `status ${a.status}`;
  if (a.status < 400 || r.method === 'HEAD') return undefined;
  const type = String(a.headers['content-type'] ?? '');
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(a.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return `status ${a.status} with a body that is not JSON (${type})`;
  }
  if (type.startsWith('application/problem+json')) {
    if (!isErrorCode(parsed.code)) return `problem without a catalogue code: ${String(parsed.code)}`;
    if (ERROR_CATALOGUE[parsed.code].status !== a.status) return `code ${parsed.code} on status ${a.status}`;
    if (a.status >= 500 && ![503, 504].includes(ERROR_CATALOGUE[parsed.code].status)) return `5xx code ${parsed.code}`;
    if (a.status === 429 && !a.headers['retry-after']) return '429 without Retry-After';
    return undefined;
  }
  // Only the token endpoint answers RFC 6749 bodies (Express matches its path case-insensitively, with a trailing slash).
  if (/^\/oauth2\/token\/?(\?|$)/i.test(r.path) && type.startsWith('application/json') && typeof parsed.error === 'string' && OAUTH_ERRORS.has(parsed.error)) {
    return undefined;
  }
  return `status ${a.status} as ${type}, not problem+json`;
}

test('fuzzing the broker and the sandbox over HTTP: no 5xx, errors in their documented shape, the process and its heap steady', { timeout: 600_000 }, async (t) => {
  const sys = await startSystem({
    profiles: ['sales'],
    // Fuzzing sends thousands of bad tokens from one address: the per-address limit would answer
    // 429 to everything. The per-token limit stays low so that repeated junk still meets a 429.
    brokerOverrides: { rateLimit: { perMinute: 1_000_000, authFailuresPerAddress: 1_000_000, authFailuresPerToken: 5 } },
  });
  t.after(() => sys.close());
  // The sandbox under fuzz is a second one: its admin API (reset, faults) must not break the broker's.
  // A seeded client survives the fuzzer's resets, so that the sandbox can be checked after the run.
  const fuzzClient = { clientId: 'fuzz', clientSecret: 'fuzz-secret' };
  const sandbox = await startSandbox({ port: 0, adminKey: SANDBOX_KEY, tokenRateLimitPerMinute: 1_000_000, apiRateLimitPerMinute: 1_000_000, clients: [fuzzClient] });
  t.after(() => sandbox.close());
  const sandboxMint = async () => {
    const minted = await fetch(`${sandbox.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${fuzzClient.clientId}:${fuzzClient.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    assert.equal(minted.status, 200);
    return (await minted.json() as { access_token: string }).access_token;
  };
  const sandboxToken = await sandboxMint();

  const callers: Callers = { app: await sys.tokenFor('app'), admin: await sys.tokenFor('admin'), stranger: await sys.tokenFor('stranger') };
  const junk = ['abc', 'a.b.c', `${callers.app.split('.')[0]}.e30.AAAA`, await sys.otherIdp.clientCredentialsToken(CLIENTS.app.client_id).then((x) => `${x}A`)];

  const counts = { broker: 0, sandbox: 0, refusedHead: 0, refusedByParser: 0, byStatus: new Map<number, number>() };
  const check = async (r: FuzzRequest): Promise<void> => {
    if (r.target === 'sandbox') sandbox.admin.clearFaults();
    let a: Answer;
    try {
      a = await send(r.target === 'broker' ? sys.broker.url : sandbox.url, r);
    } catch (err) {
      // Past Node's 16 kB header limit the broker cannot know a request was HEAD (the request line
      // is long gone), so it sends its problem document, which a HEAD client refuses to parse.
      const refusedHead = r.target === 'broker' && r.method === 'HEAD' && headerBytes(r) > 16 * 1024 && /Data after `Connection: close`/.test((err as Error).message);
      // A request line with bytes outside printable ASCII is refused by Node's HTTP parser itself
      // (Node 24's parser is stricter than Node 20's): it answers 400 and closes the socket, and a
      // client still sending a large body meets a reset before it reads the answer. Not a crash:
      // the server must still answer the next request.
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const refusedByParser = ['ECONNRESET', 'EPIPE'].includes(code) && !/^[\x21-\x7e]*$/.test(r.path);
      if (refusedByParser) {
        const alive = await fetch(`${r.target === 'broker' ? sys.broker.url : sandbox.url}/healthz`).then((res) => res.status, () => 0);
        assert.ok(alive > 0 && alive < 500, `${r.target} still answers after a refused request line (got ${alive})`);
        counts.refusedByParser += 1;
        return;
      }
      if (!refusedHead) throw err;
      counts.refusedHead += 1;
      return;
    }
    counts[r.target] += 1;
    counts.byStatus.set(a.status, (counts.byStatus.get(a.status) ?? 0) + 1);
    const problem = r.target === 'broker'
      ? brokerAnswerProblem(r, a)
      : a.status >= 500 && a.status !== 503 && a.status !== 504 ? `status ${a.status}` : undefined;
    assert.equal(problem, undefined, `${problem}; answered ${a.body.toString('utf8').slice(0, 300)}`);
  };

  const arb = fc.oneof({ weight: 3, arbitrary: requestArb('broker', callers, junk, sandboxToken) }, { weight: 1, arbitrary: requestArb('sandbox', callers, junk, sandboxToken) });
  // Warm up (JIT, caches, connection pools) before the heap baseline.
  await fc.assert(fc.asyncProperty(arb, check), { seed: SEED + 1, numRuns: Math.min(300, RUNS), includeErrorInReport: true });
  collect();
  const before = process.memoryUsage();
  const started = Date.now();
  await fc.assert(fc.asyncProperty(arb, check), { seed: SEED, numRuns: RUNS, includeErrorInReport: true });
  const seconds = (Date.now() - started) / 1000;
  collect();
  const after = process.memoryUsage();

  // Still alive and still serving after the run.
  assert.equal((await fetch(`${sys.broker.url}/healthz`)).status, 200);
  assert.equal((await sys.get('/v1/tokens/sales', 'app')).status, 200);
  assert.equal((await fetch(`${sandbox.url}/api/v2/tokens/me`, { headers: { authorization: `Bearer ${await sandboxMint()}` } })).status, 200);
  const statuses = [...counts.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(' ');
  t.diagnostic(`seed ${SEED}, ${counts.broker + counts.sandbox} requests tried (${counts.broker} broker, ${counts.sandbox} sandbox) in ${seconds.toFixed(1)} s; statuses ${statuses}; refused by the HTTP parser with the connection closed: ${counts.refusedByParser}`);
  t.diagnostic(`heapUsed ${(before.heapUsed / 2 ** 20).toFixed(1)} → ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB, rss ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MiB`);
  assert.ok((counts.byStatus.get(429) ?? 0) > 0, 'repeated junk tokens met the failed-authentication limit, so 429s were checked too');
  assert.ok(counts.broker > RUNS / 2 && counts.sandbox > RUNS / 10, 'both services were fuzzed');
  assert.ok(after.heapUsed - before.heapUsed < HEAP_GROWTH_LIMIT, `heap grew by ${((after.heapUsed - before.heapUsed) / 2 ** 20).toFixed(1)} MiB`);
});

/** Writes raw bytes to the broker and reads until it closes the connection. */
function rawExchange(base: string, bytes: string): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer in 10 s')));
    socket.write(bytes);
  });
}

// Found by the fuzzer: requests Node's parser refuses (headers over 16 kB, a broken request line)
// got Node's bare 431 or 400 with no body, not a problem document.
test('requests the HTTP parser refuses get a problem document too', { timeout: 60_000 }, async (t) => {
  const sys = await startSystem();
  t.after(() => sys.close());
  const huge = await send(sys.broker.url, { target: 'broker', method: 'GET', path: '/v1/tokens/sales', headers: { authorization: `Bearer ${'A'.repeat(20_000)}` }, body: undefined });
  assert.equal(huge.status, 431);
  assert.match(String(huge.headers['content-type']), /^application\/problem\+json/);
  assert.equal((JSON.parse(huge.body.toString('utf8')) as { code: string }).code, 'ERR_HEADERS_TOO_LARGE');

  const garbage = await rawExchange(sys.broker.url, 'GARBAGE\r\n\r\n');
  assert.match(garbage, /^HTTP\/1\.1 400 /);
  assert.match(garbage, /content-type: application\/problem\+json/i);
  assert.match(garbage, /"code":"ERR_BAD_REQUEST"/);
  // A HEAD whose request line the broker saw gets the status without a body.
  const head = await rawExchange(sys.broker.url, 'HEAD /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 400 /);
  assert.ok(head.endsWith('\r\n\r\n'), 'no body after the headers');
  assert.equal((await fetch(`${sys.broker.url}/healthz`)).status, 200);
});

// Found by the fuzzer (its process would not exit): a reader of the events stream that left while
// the broker was still catching up left the stream's keepalive interval and expiry timer running
// for good. The broker runs in this process, so leaving after 0, 1, 2, … turns of the event loop
// sweeps the handler's awaits.
test('an events stream its reader leaves at any moment leaves no timer behind', { timeout: 60_000 }, async (t) => {
  const sys = await startSystem();
  t.after(() => sys.close());
  const admin = await sys.tokenFor('admin');
  // The identity is verified and cached first, so that each reader below reaches the stream at once.
  assert.equal((await send(sys.broker.url, { target: 'broker', method: 'GET', path: '/v1/events?count=1', headers: { authorization: `Bearer ${admin}` }, body: undefined })).status, 200);
  const url = new URL(sys.broker.url);
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const READERS = 120;
  for (let i = 0; i < READERS; i++) {
    const socket = connect(Number(url.port), url.hostname);
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET /v1/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\n\r\n`);
    for (let n = 0; n < i % 60; n++) await turn();
    socket.resetAndDestroy();
  }
  // Each left stream is cleaned up once the broker sees its connection close.
  const settled = await waitFor('the left streams cleaned up', () => timers() < before + 10, { timeoutMs: 10_000 }).catch(() => false);
  assert.ok(settled, `${timers() - before} more timers after ${READERS} readers left`);
});
