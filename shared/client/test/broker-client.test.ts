import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBrokerClient, isBrokerClientError, type FetchLike } from '../src/index.js';
import { startSystem } from './system-harness.js';
import { deadUrl, startContractServer } from './contract-server.js';

/** A fetch that counts the requests it sends. */
function countingFetch() {
  const seen: string[] = [];
  const fetch: FetchLike = (input, init) => {
    seen.push(`${init.method ?? 'GET'} ${new URL(input).pathname}`);
    return globalThis.fetch(input, init);
  };
  return { fetch, seen };
}

test('getToken against the broker: cached, single-flight, refreshed ahead, min TTL', async (t) => {
  const sys = await startSystem(t);
  const idToken = await sys.tokenFor('app');
  let clock = Date.now();
  const { fetch, seen } = countingFetch();
  const client = createBrokerClient({ url: sys.broker.url, getIdentityToken: async () => idToken, fetch, now: () => clock });

  const many = await Promise.all(Array.from({ length: 10 }, () => client.getToken('sales')));
  assert.equal(seen.length, 1, 'ten concurrent callers, one request');
  const first = many[0]!;
  assert.ok(many.every((tok) => tok.accessToken === first.accessToken));
  assert.match(first.fingerprint, /^[0-9a-f]{12}$/);
  assert.equal(first.apiBaseUrl, sys.sandbox.url);
  assert.equal(first.profile, 'sales');
  assert.ok(first.expiresAt > clock + 3000_000, 'expiresAt from expires_in, about an hour');

  await client.getToken('sales');
  assert.equal(seen.length, 1, 'a fresh cached token needs no request');

  // Past the refresh point: the cached token comes back at once and one refresh runs behind it.
  const refreshAt = client.refreshAt('sales')!;
  clock = refreshAt + 1;
  const during = await Promise.all([client.getToken('sales'), client.getToken('sales')]);
  assert.equal(during[0]!.accessToken, first.accessToken);
  assert.equal(seen.length, 2, 'one background refresh');
  const deadline = Date.now() + 10_000;
  while (client.refreshAt('sales') === refreshAt && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(client.refreshAt('sales')! > refreshAt, 'the refresh stored a new refresh point');

  // Inside the last minTtl of the token, callers wait for a new one.
  const latest = await client.getToken('sales');
  assert.equal(seen.length, 2);
  clock = latest.expiresAt - 30_000;
  await client.getToken('sales');
  assert.equal(seen.length, 3);
});

test('a rotation is seen with forceRefresh', async (t) => {
  const sys = await startSystem(t);
  const app = createBrokerClient({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('app') });
  const ops = createBrokerClient({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('ops') });
  const before = await app.getToken('sales');
  const rotated = await ops.rotate('sales');
  assert.notEqual(rotated.fingerprint, before.fingerprint);
  assert.equal((await app.getToken('sales')).fingerprint, before.fingerprint, 'cached until asked');
  assert.equal((await app.getToken('sales', { forceRefresh: true })).fingerprint, rotated.fingerprint);
});

test('typed errors from the broker: denied, unknown, bad identity, bad name', async (t) => {
  const sys = await startSystem(t);
  const app = createBrokerClient({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('app') });
  const ops = createBrokerClient({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('ops') });
  const stranger = createBrokerClient({ url: sys.broker.url, getIdentityToken: () => sys.tokenFor('stranger') });
  const forged = createBrokerClient({ url: sys.broker.url, getIdentityToken: async () => 'not-a-jwt' });
  const failing = createBrokerClient({ url: sys.broker.url, getIdentityToken: async () => { throw new Error('idp down'); } });

  await assert.rejects(app.getToken('support'), (err) => isBrokerClientError(err, 'ERR_PROFILE_NOT_ALLOWED') && err.status === 403);
  await assert.rejects(stranger.getToken('sales'), (err) => isBrokerClientError(err, 'ERR_PROFILE_NOT_ALLOWED'));
  await assert.rejects(ops.getToken('nope'), (err) => isBrokerClientError(err, 'ERR_PROFILE_UNKNOWN') && err.status === 404);
  await assert.rejects(forged.getToken('sales'), (err) => isBrokerClientError(err) && err.status === 401 && err.code.startsWith('ERR_IDP_TOKEN_'));
  await assert.rejects(failing.getToken('sales'), (err) => isBrokerClientError(err, 'ERR_IDP_UNAVAILABLE'));
  await assert.rejects(app.getToken('../admin'), (err) => isBrokerClientError(err, 'ERR_VALIDATION'));
  await assert.rejects(app.listLeases(), (err) => isBrokerClientError(err, 'ERR_ADMIN_REQUIRED'));
});

test('network failures: unreachable and timeout are ERR_BROKER_UNREACHABLE', async (t) => {
  const dead = createBrokerClient({ url: await deadUrl(), getIdentityToken: async () => 'x' });
  await assert.rejects(dead.getToken('sales'), (err) => isBrokerClientError(err, 'ERR_BROKER_UNREACHABLE'));
  const hang = await startContractServer(t, () => { /* never answers */ });
  const slow = createBrokerClient({ url: hang.url, getIdentityToken: async () => 'x', timeoutMs: 200 });
  await assert.rejects(slow.getToken('sales'), (err) => isBrokerClientError(err, 'ERR_BROKER_UNREACHABLE'));
});

test('503 with Retry-After, unknown codes and malformed answers', async (t) => {
  const server = await startContractServer(t, (req, res) => {
    if (req.url === '/v1/tokens/busy') {
      res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '7' });
      res.end(JSON.stringify({ status: 503, code: 'ERR_UPSTREAM_THROTTLED', title: 'Genesys is throttling token requests' }));
    } else if (req.url === '/v1/tokens/future') {
      res.writeHead(409, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ code: 'ERR_FROM_THE_FUTURE' }));
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":42}');
    }
  });
  const client = createBrokerClient({ url: server.url, getIdentityToken: async () => 'x' });
  await assert.rejects(client.getToken('busy'), (err) => isBrokerClientError(err, 'ERR_UPSTREAM_THROTTLED') && err.retryAfter === 7 && err.status === 503);
  await assert.rejects(client.getToken('future'), (err) => isBrokerClientError(err, 'ERR_BAD_REQUEST') && err.problemCode === 'ERR_FROM_THE_FUTURE');
  await assert.rejects(client.getToken('odd'), (err) => isBrokerClientError(err, 'ERR_BROKER_RESPONSE_INVALID'));
});

test('a 401 for an expired identity token is retried once, asking the source for a fresh token', async (t) => {
  const seen: string[] = [];
  const server = await startContractServer(t, (req, res) => {
    seen.push(req.headers.authorization ?? '');
    if (req.headers.authorization !== 'Bearer fresh-idp-token') {
      res.writeHead(401, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status: 401, code: 'ERR_IDP_TOKEN_EXPIRED', title: 'expired' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      access_token: 'genesys-token', token_type: 'Bearer', expires_in: 3600, expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      profile: 'sales', api_base_url: 'https://api.example.com', fingerprint: 'ba7816bf8f01',
    }));
  });
  const asked: (boolean | undefined)[] = [];
  const client = createBrokerClient({
    url: server.url,
    getIdentityToken: async (options) => {
      asked.push(options?.forceRefresh);
      return options?.forceRefresh ? 'fresh-idp-token' : 'cached-idp-token';
    },
  });
  assert.equal((await client.getToken('sales')).fingerprint, 'ba7816bf8f01');
  assert.deepEqual(asked, [undefined, true]);
  assert.deepEqual(seen, ['Bearer cached-idp-token', 'Bearer fresh-idp-token']);
});

test('options are validated where the client is built', () => {
  const ok = { url: 'http://127.0.0.1:1', getIdentityToken: async () => 'x' };
  for (const bad of [{ url: 'ftp://x' }, { url: 'not a url' }, { url: 'http://u:p@host' }, { refreshAhead: 1.5 }, { minTtlSeconds: -1 }, { timeoutMs: 0 }, { getIdentityToken: 'x' }]) {
    assert.throws(() => createBrokerClient({ ...ok, ...bad } as never), (err: { code?: string }) => err.code === 'ERR_CONFIG_INVALID', JSON.stringify(bad));
  }
});

test('a refusal of the identity itself (token type, client not allowed) drops the cached token; a 503 keeps it', async (t) => {
  let answer: { status: number; code?: string } = { status: 200 };
  const server = await startContractServer(t, (_req, res) => {
    if (answer.status !== 200) {
      res.writeHead(answer.status, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status: answer.status, code: answer.code, title: 'refused' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      access_token: 'genesys-token', token_type: 'Bearer', expires_in: 100, profile: 'sales', api_base_url: 'https://api.example.com', fingerprint: 'ba7816bf8f01',
    }));
  });
  let clock = 1_000_000;
  const refreshErrors: string[] = [];
  const client = createBrokerClient({
    url: server.url, getIdentityToken: async () => 'idp-token', now: () => clock, minTtlSeconds: 0,
    onRefreshError: (err) => refreshErrors.push(err.code),
  });
  const settled = async () => { for (let i = 0; i < 20 && refreshErrors.length === 0; i += 1) await new Promise((r) => setTimeout(r, 25)); };
  for (const code of ['ERR_IDP_TOKEN_TYPE', 'ERR_IDP_CLIENT_NOT_ALLOWED'] as const) {
    answer = { status: 200 };
    assert.equal((await client.getToken('sales', { forceRefresh: true })).fingerprint, 'ba7816bf8f01');
    // Past refresh-ahead (80 % of 100 s): the cached token is served and a background refresh meets the refusal.
    clock += 85_000;
    answer = { status: 401, code };
    refreshErrors.length = 0;
    assert.equal((await client.getToken('sales')).fingerprint, 'ba7816bf8f01');
    await settled();
    assert.deepEqual(refreshErrors, [code]);
    await assert.rejects(client.getToken('sales'), (err) => isBrokerClientError(err, code), `${code}: the cached token is no longer served`);
  }
  // A passing outage is not a refusal: the cached token stays.
  answer = { status: 200 };
  await client.getToken('sales', { forceRefresh: true });
  clock += 85_000;
  answer = { status: 503, code: 'ERR_REDIS_UNAVAILABLE' };
  refreshErrors.length = 0;
  await client.getToken('sales');
  await settled();
  assert.deepEqual(refreshErrors, ['ERR_REDIS_UNAVAILABLE']);
  assert.equal((await client.getToken('sales')).fingerprint, 'ba7816bf8f01');
});
