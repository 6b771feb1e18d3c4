// A 5xx answer tells the caller what to do (code, title, a generic detail, Retry-After, the request
// id), never how the broker is wired: no upstream URL, no host:port, no Redis timing. The operator
// finds that detail in the log line carrying the same request id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { GtbError } from '@gtb/errors';
import { createRedis } from '@gtb/redis';
import { brokerConfigSchema } from '../src/config.js';
import { startBroker } from '../src/compose.js';
import { requestContext } from '../src/http/request-context.js';
import { errorHandler } from '../src/http/problem.js';
import { memoryLogger, startSystem, waitUntilReady, type TestSystem } from '../../../test/support/system.js';
import { freePort, startPrivateRedis } from '../../../test/support/redis-server.js';

/** What must never reach a caller from a server error (the problem `type` is our own documentation URI). */
function assertNoInternals(raw: string, what: string): void {
  const { type, ...rest } = JSON.parse(raw) as Record<string, unknown>;
  if (type !== undefined) assert.match(String(type), /^https:\/\/gtb\.dev\/errors\/ERR_[A-Z_]+$/);
  const text = JSON.stringify(rest);
  assert.doesNotMatch(text, /https?:\/\//, `${what} names a URL: ${text}`);
  assert.doesNotMatch(text, /\b(?:\d{1,3}\.){3}\d{1,3}\b|localhost/i, `${what} names a host: ${text}`);
  assert.doesNotMatch(text, /[\w.-]:\d{2,5}\b/, `${what} names a host:port: ${text}`);
  assert.doesNotMatch(text, /\d+\s*ms\b/, `${what} names a timing: ${text}`);
}

/** The broker's JSON log lines that carry `requestId`. */
function linesFor(lines: string[], requestId: string): Record<string, unknown>[] {
  return lines
    .flatMap((l) => l.split('\n').filter(Boolean))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l['requestId'] === requestId);
}

/** A second broker replica over the test system's configuration, changed by `edit`, logging at info. */
async function replica(t: { after(fn: () => Promise<void>): void }, sys: TestSystem, edit: (raw: Record<string, unknown>) => void) {
  const raw = structuredClone(sys.rawConfig);
  raw['instanceId'] = `detail-${randomUUID().slice(0, 8)}`;
  edit(raw);
  const { logger, lines } = memoryLogger('info');
  const broker = await startBroker({ config: brokerConfigSchema.parse(raw), logger });
  t.after(() => broker.stop());
  await waitUntilReady(broker.url);
  return { broker, lines };
}

test('503 from an unreachable Genesys login: the body names no URL or port, the log line does', async (t) => {
  const sys = await startSystem();
  t.after(() => sys.close());
  const deadPort = await freePort();
  const dead = `http://127.0.0.1:${deadPort}`;
  const { broker, lines } = await replica(t, sys, (raw) => {
    (raw['profiles'] as unknown[]).push({ name: 'dead', loginBaseUrl: dead, apiBaseUrl: dead, clientId: 'dead-client', clientSecret: 'dead-secret' });
  });
  const admin = await sys.tokenFor('admin');

  const res = await fetch(`${broker.url}/v1/tokens/dead`, { headers: { authorization: `Bearer ${admin}`, 'x-request-id': 'req-dead-login' } });
  assert.equal(res.status, 503);
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  const text = await res.text();
  assertNoInternals(text, 'problem body');
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.equal(body['code'], 'ERR_UPSTREAM_UNAVAILABLE');
  assert.equal(body['title'], 'Genesys is unavailable');
  assert.equal(body['detail'], 'Genesys is unavailable; retry later');
  assert.equal(body['requestId'], 'req-dead-login');
  assert.equal(res.headers.get('x-request-id'), 'req-dead-login');
  assert.equal(body['details'], undefined, 'no upstream details for the caller');

  const logged = linesFor(lines, 'req-dead-login').find((l) => l['msg'] === 'request failed');
  assert.ok(logged, `a request failed line with the request id in:\n${lines.join('')}`);
  assert.equal(logged['code'], 'ERR_UPSTREAM_UNAVAILABLE');
  assert.match(String(logged['reason']), new RegExp(`127\\.0\\.0\\.1:${deadPort}`));

  // The token exchange answers the same failure as RFC 6749 JSON, as bare.
  const exchange = await fetch(`${broker.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': 'req-dead-exchange' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: admin,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: 'dead',
    }),
  });
  assert.equal(exchange.status, 503);
  const oauth = await exchange.text();
  assertNoInternals(oauth, 'OAuth error body');
  assert.equal((JSON.parse(oauth) as { error?: string }).error, 'temporarily_unavailable');
  assert.ok(linesFor(lines, 'req-dead-exchange').some((l) => l['msg'] === 'request failed' && typeof l['reason'] === 'string'));
});

test('503 from a Redis that stopped answering: the body has no timing, the log line has it', async (t) => {
  const sys = await startSystem();
  t.after(() => sys.close());
  const redis = await startPrivateRedis();
  let pid = 0;
  const resume = () => { if (pid > 0) { try { process.kill(pid, 'SIGCONT'); } catch { /* already gone */ } } };
  const started = await replica(t, sys, (raw) => {
    raw['redis'] = { mode: 'standalone', url: redis.url };
  }).catch(async (err: unknown) => { await redis.stop(); throw err; });
  const { broker, lines } = started;
  // After hooks run in the order they were added: the broker stops first, while its Redis is still there.
  t.after(async () => { resume(); await redis.stop(); });
  // A Redis that accepts the connection but never answers: the process is paused (SIGSTOP), so each
  // command waits for the broker's Redis deadline instead of failing fast on a closed socket.
  const probe = createRedis({ mode: 'standalone', url: redis.url });
  const info = await probe.info('server');
  probe.disconnect();
  pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  assert.ok(pid > 0, 'the private redis-server pid');
  process.kill(pid, 'SIGSTOP');

  const app = await sys.tokenFor('app');
  const res = await fetch(`${broker.url}/v1/tokens/sales`, { headers: { authorization: `Bearer ${app}`, 'x-request-id': 'req-redis-paused' }, signal: AbortSignal.timeout(30_000) }).catch((err: unknown) => {
    console.error(lines.join(''));
    throw err;
  });
  resume();
  assert.equal(res.status, 503);
  const text = await res.text();
  assertNoInternals(text, 'problem body');
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.equal(body['code'], 'ERR_REDIS_UNAVAILABLE');
  assert.equal(body['detail'], 'Redis unavailable; retry later');
  assert.equal(body['requestId'], 'req-redis-paused');

  const logged = linesFor(lines, 'req-redis-paused').find((l) => l['msg'] === 'request failed');
  assert.ok(logged, `a request failed line with the request id in:\n${lines.join('')}`);
  assert.match(String(logged['reason']), /no answer within \d+ ms/);
});

test('504 and Retry-After: generic detail on /v1 and on the token endpoint, full reason in the log', async (t) => {
  const { logger, lines } = memoryLogger('info');
  const app = express();
  app.use(requestContext(logger));
  const timeout = () => new GtbError('ERR_UPSTREAM_TIMEOUT', 'login: no answer from https://login.mypurecloud.de:443/oauth/token within 10000 ms', { retryAfter: 4.2 });
  app.get('/v1/tokens/sales', () => { throw timeout(); });
  app.post('/oauth2/token', () => { throw timeout(); });
  app.use(errorHandler(logger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const res = await fetch(`${base}/v1/tokens/sales`, { headers: { 'x-request-id': 'req-504' } });
  assert.equal(res.status, 504);
  assert.equal(res.headers.get('retry-after'), '5');
  const text = await res.text();
  assertNoInternals(text, 'problem body');
  assert.deepEqual(JSON.parse(text), {
    type: 'https://gtb.dev/errors/ERR_UPSTREAM_TIMEOUT',
    title: 'Genesys did not answer in time',
    status: 504,
    code: 'ERR_UPSTREAM_TIMEOUT',
    detail: 'Genesys did not answer in time; retry after 5 s',
    instance: '/v1/tokens/sales',
    requestId: 'req-504',
    retryAfter: 5,
  });

  const oauth = await fetch(`${base}/oauth2/token`, { method: 'POST', headers: { 'x-request-id': 'req-504-oauth' } });
  assert.equal(oauth.status, 504);
  const oauthText = await oauth.text();
  assertNoInternals(oauthText, 'OAuth error body');
  assert.deepEqual(JSON.parse(oauthText), { error: 'server_error', error_description: 'Genesys did not answer in time; retry after 5 s', code: 'ERR_UPSTREAM_TIMEOUT' });

  for (const id of ['req-504', 'req-504-oauth']) {
    const logged = linesFor(lines, id).find((l) => l['msg'] === 'request failed');
    assert.ok(logged, `a request failed line for ${id}`);
    assert.equal(logged['level'], 'warn', 'a server error is a warning');
    assert.equal(logged['reason'], 'login: no answer from https://login.mypurecloud.de:443/oauth/token within 10000 ms');
  }
});

