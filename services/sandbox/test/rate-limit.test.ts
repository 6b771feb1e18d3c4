import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, clientWithToken, sandbox, testClock } from './helpers.js';

test('every API answer carries inin-ratelimit-* headers, errors included', async (t) => {
  const sb = await sandbox(t, { apiRateLimitPerMinute: 50 });
  const { token } = await clientWithToken(sb);
  const ok = await api(sb, token, 'GET', '/tokens/me');
  assert.equal(ok.headers.get('inin-ratelimit-count'), '1');
  assert.equal(ok.headers.get('inin-ratelimit-allowed'), '50');
  assert.match(ok.headers.get('inin-ratelimit-reset') ?? '', /^\d+$/);
  const second = await api(sb, token, 'GET', '/tokens/me');
  assert.equal(second.headers.get('inin-ratelimit-count'), '2');
  for (const res of [await api(sb, undefined, 'GET', '/tokens/me'), await api(sb, token, 'GET', '/nope')]) {
    assert.ok(res.status >= 400);
    assert.equal(res.headers.get('inin-ratelimit-allowed'), '50');
    assert.ok(res.headers.get('inin-ratelimit-count'));
    assert.ok(res.headers.get('inin-ratelimit-reset'));
  }
});

test('past the per-token limit → 429 too.many.requests with integer Retry-After; the window resets with the clock', async (t) => {
  const clock = testClock();
  const sb = await sandbox(t, { apiRateLimitPerMinute: 3, now: clock.now });
  const { token, clientId, clientSecret } = await clientWithToken(sb);
  for (let i = 0; i < 3; i++) assert.equal((await api(sb, token, 'HEAD', '/tokens/me')).status, 200);
  clock.advance(20_000);
  const res = await api(sb, token, 'GET', '/tokens/me');
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), '40');
  assert.equal(res.headers.get('inin-ratelimit-reset'), '40');
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(body.code, 'too.many.requests');
  assert.equal(body.status, 429);
  assert.equal(body.message, 'Rate limit exceeded the maximum. Retry the request in [40] seconds');
  assert.equal(typeof body.contextId, 'string');
  // The limit is per token: another token of the same client is not limited.
  const other = await fetch(`${sb.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const otherToken = ((await other.json()) as { access_token: string }).access_token;
  assert.equal((await api(sb, otherToken, 'HEAD', '/tokens/me')).status, 200);
  clock.advance(40_000);
  assert.equal((await api(sb, token, 'HEAD', '/tokens/me')).status, 200);
  assert.equal(sb.admin.counters().apiRequestsThrottled, 1);
});
