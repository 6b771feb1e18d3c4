// Security holes 2 and 3: failed authentications are limited before any token check (per address,
// per token hash) and counted by reason; X-Forwarded-For is believed only from configured proxies,
// and token exchange is counted per verified caller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerConfigSchema } from '../src/config.js';
import { startSystem, type TestSystem } from '../../../test/support/system.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token';

async function metric(sys: TestSystem, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${sys.broker.url}/metrics`)).text();
  return text.split('\n').filter((l) => pattern.test(l)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

async function codeOf(res: Response): Promise<string> {
  const body = await res.json() as Record<string, unknown>;
  return String(body.code ?? body.error);
}

/** A JWT-shaped token with a valid header and no valid signature, different each call. */
function junkToken(n: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'at+jwt', kid: 'nope' })}.${part({ iss: 'https://nowhere.example', sub: `x${n}`, aud: 'api://gtb-broker', exp: 4102444800 })}.${'A'.repeat(86)}`;
}

test('failed authentications from one address are refused unverified after the limit, and counted by reason', async (t) => {
  const sys = await startSystem({ brokerOverrides: { rateLimit: { perMinute: 100_000, authFailuresPerAddress: 5, authFailuresPerToken: 100 } } });
  t.after(() => sys.close());
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  // A caller that authenticated before the flood keeps working (its token is in the verified cache).
  assert.equal((await sys.get('/v1/tokens/sales', 'app')).status, 200);

  for (let i = 0; i < 5; i++) assert.equal((await sys.get('/v1/tokens/sales', null, bearer(junkToken(i)))).status, 401);
  const failures = await metric(sys, /^gtb_auth_failures_total\{/);
  assert.equal(failures, 5, 'every rejected token is counted');

  const refused = await sys.get('/v1/tokens/sales', null, bearer(junkToken(99)));
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.equal(await codeOf(refused), 'ERR_RATE_LIMITED');
  assert.equal(await metric(sys, /^gtb_auth_failures_total\{reason="too_many_failures"\}/), 1);
  // A missing header counts against the address too, and is refused the same way now.
  assert.equal((await sys.get('/v1/tokens/sales', null)).status, 429);
  // The token exchange endpoint shares the limit (its subject token is verified the same way).
  const exchanged = await fetch(`${sys.broker.url}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: EXCHANGE, subject_token: junkToken(100), subject_token_type: ACCESS, audience: 'sales' }),
  });
  assert.equal(exchanged.status, 429);

  assert.equal((await sys.get('/v1/tokens/sales', 'app')).status, 200, 'the authenticated caller is not locked out');
});

test('one token that keeps failing is refused whatever address it comes from', async (t) => {
  // With 127.0.0.1 a trusted proxy, each request below comes from its own forwarded address.
  const sys = await startSystem({ brokerOverrides: { http: { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 2000, trustProxy: ['127.0.0.1'] }, rateLimit: { perMinute: 100_000, authFailuresPerAddress: 100, authFailuresPerToken: 3 } } });
  t.after(() => sys.close());
  const junk = junkToken(1);
  const from = (i: number) => ({ headers: { authorization: `Bearer ${junk}`, 'x-forwarded-for': `198.51.100.${i}` } });
  for (let i = 0; i < 3; i++) assert.equal((await sys.get('/v1/tokens/sales', null, from(i))).status, 401);
  assert.equal((await sys.get('/v1/tokens/sales', null, from(50))).status, 429);
  // Another bad token from a fresh address is still checked (and rejected) normally.
  assert.equal((await sys.get('/v1/tokens/sales', null, { headers: { authorization: `Bearer ${junkToken(2)}`, 'x-forwarded-for': '198.51.100.60' } })).status, 401);
});

test('X-Forwarded-For from an untrusted address does not choose the rate-limit key', async (t) => {
  const sys = await startSystem({ brokerOverrides: { rateLimit: { perMinute: 100_000, authFailuresPerAddress: 3, authFailuresPerToken: 100 } } });
  t.after(() => sys.close());
  for (let i = 0; i < 3; i++) {
    const res = await sys.get('/v1/tokens/sales', null, { headers: { authorization: `Bearer ${junkToken(i)}`, 'x-forwarded-for': `203.0.113.${i}` } });
    assert.equal(res.status, 401);
  }
  // A new forwarded address changes nothing: the socket address (127.0.0.1) is what counts.
  const res = await sys.get('/v1/tokens/sales', null, { headers: { authorization: `Bearer ${junkToken(9)}`, 'x-forwarded-for': '203.0.113.200' } });
  assert.equal(res.status, 429);
});

test('a hop count or true for trustProxy is refused with a clear error', () => {
  for (const trustProxy of [1, true, 'not-an-address', '10.0.0.0/33']) {
    const parsed = brokerConfigSchema.safeParse({ http: { trustProxy } });
    assert.equal(parsed.success, false, `trustProxy ${String(trustProxy)} must be refused`);
    const issue = parsed.error!.issues.find((i) => i.path.join('.').startsWith('http.trustProxy'));
    assert.ok(issue, `the error names http.trustProxy for ${String(trustProxy)}`);
  }
  for (const trustProxy of [[], ['10.0.0.0/8', '192.0.2.7', '::1', 'loopback'], false]) {
    const parsed = brokerConfigSchema.shape.http.safeParse({ trustProxy });
    assert.equal(parsed.success, true, `trustProxy ${JSON.stringify(trustProxy)} is accepted`);
  }
});

test('token exchange is rate-limited per verified caller, not per address', async (t) => {
  const sys = await startSystem({ brokerOverrides: { rateLimit: { perMinute: 3, authFailuresPerAddress: 100, authFailuresPerToken: 100 } } });
  t.after(() => sys.close());
  const exchange = async (client: 'app' | 'admin') => fetch(`${sys.broker.url}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: EXCHANGE, subject_token: await sys.tokenFor(client), subject_token_type: ACCESS, audience: 'sales' }),
  });
  for (let i = 0; i < 3; i++) assert.equal((await exchange('app')).status, 200);
  const limited = await exchange('app');
  assert.equal(limited.status, 429);
  assert.equal((await limited.json() as Record<string, unknown>).error, 'slow_down');
  // Another caller from the same address has its own count.
  assert.equal((await exchange('admin')).status, 200);
});
