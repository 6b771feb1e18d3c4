import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../../test/support/wait.js';
import { ADMIN_KEY, adminCall, api, channelWith, clientWithToken, connect, sandbox, tokenRequest, upgradeStatus } from './helpers.js';

const TOPIC = 'v2.users.u1.presence';

test('admin API is 404 when no adminKey is set', async (t) => {
  const sb = await sandbox(t, { adminKey: undefined });
  const res = await adminCall(sb, 'GET', '/counters');
  assert.equal(res.status, 404);
});

test('admin API needs x-sandbox-key: missing 401, wrong 403', async (t) => {
  const sb = await sandbox(t);
  assert.equal((await adminCall(sb, 'GET', '/counters', undefined, null)).status, 401);
  const wrong = await adminCall(sb, 'GET', '/counters', undefined, 'nope');
  assert.equal(wrong.status, 403);
  assert.equal(((await wrong.json()) as { code: string }).code, 'ERR_ADMIN_REQUIRED');
  assert.equal((await adminCall(sb, 'GET', '/counters', undefined, ADMIN_KEY)).status, 200);
});

test('HTTP admin: clients, events, faults, counters, channel expire and close, revoke, reset', async (t) => {
  const sb = await sandbox(t, { socketClosingNoticeMs: 100 });
  let res = await adminCall(sb, 'POST', '/clients', { clientId: 'h1', clientSecret: 'hs', tokenLifetimeSeconds: 900 });
  assert.equal(res.status, 201);
  assert.deepEqual(await res.json(), { clientId: 'h1', clientSecret: 'hs' });
  const token = ((await (await tokenRequest(sb, 'h1', 'hs')).json()) as { access_token: string; expires_in: number });
  assert.equal(token.expires_in, 900);
  const c1 = await channelWith(sb, token.access_token, [TOPIC]);
  const s1 = await connect(t, c1.connectUri);
  res = await adminCall(sb, 'POST', '/events', { topic: TOPIC, count: 3 });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { sent: number }).sent, 3);
  await waitFor('events', () => s1.events().length === 3, { intervalMs: 10 });
  res = await adminCall(sb, 'POST', '/faults', { type: 'api-throttle', retryAfterSeconds: 2, count: 1 });
  assert.equal(res.status, 201);
  res = await adminCall(sb, 'DELETE', '/faults');
  assert.equal(res.status, 204);
  assert.equal((await api(sb, token.access_token, 'HEAD', '/tokens/me')).status, 200);
  res = await adminCall(sb, 'GET', '/counters');
  const counters = (await res.json()) as { tokensMinted: Record<string, number>; eventsSentByChannel: Record<string, number>; socketsOpened: number; channelsCreated: number };
  assert.equal(counters.tokensMinted.h1, 1);
  assert.equal(counters.eventsSentByChannel[c1.id], 3);
  assert.equal(counters.socketsOpened, 1);
  assert.equal(counters.channelsCreated, 1);
  res = await adminCall(sb, 'POST', `/channels/${c1.id}/close`, { notice: true });
  assert.equal(res.status, 202);
  await s1.closed;
  assert.ok(s1.frames.some((f) => f.topicName === 'v2.system.socket_closing'));
  const s1b = await connect(t, c1.connectUri);
  res = await adminCall(sb, 'POST', `/channels/${c1.id}/expire`);
  assert.equal(res.status, 204);
  assert.equal((await s1b.closed).reason, 'Channel expired');
  assert.equal((await adminCall(sb, 'POST', `/channels/${c1.id}/expire`)).status, 404);
  res = await adminCall(sb, 'POST', '/tokens/revoke', { clientId: 'h1' });
  assert.deepEqual(await res.json(), { revoked: 1 });
  res = await adminCall(sb, 'POST', '/reset');
  assert.equal(res.status, 204);
  assert.equal((await tokenRequest(sb, 'h1', 'hs')).status, 401);
  const after = (await (await adminCall(sb, 'GET', '/counters')).json()) as { tokensMinted: Record<string, number> };
  assert.deepEqual(after.tokensMinted, {});
});

test('admin API refuses bad input with problem+json codes', async (t) => {
  const sb = await sandbox(t);
  let res = await adminCall(sb, 'POST', '/clients', { tokenLifetimeSeconds: 5 });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { code: string }).code, 'ERR_VALIDATION');
  res = await adminCall(sb, 'POST', '/events', { topic: 'nope', count: 1 });
  assert.equal(((await res.json()) as { code: string }).code, 'ERR_VALIDATION');
  res = await adminCall(sb, 'POST', '/faults', { type: 'nope' });
  assert.equal(((await res.json()) as { code: string }).code, 'ERR_VALIDATION');
  res = await fetch(`${sb.url}/__sandbox/faults`, { method: 'POST', headers: { 'x-sandbox-key': ADMIN_KEY, 'content-type': 'application/json' }, body: '{bad' });
  assert.equal(((await res.json()) as { code: string }).code, 'ERR_BAD_REQUEST');
  res = await adminCall(sb, 'POST', '/channels/streaming-1-x/close');
  assert.equal(res.status, 404);
  res = await adminCall(sb, 'GET', '/nothing');
  assert.equal(res.status, 404);
});

test('reset keeps the clients given at start and closes every socket', async (t) => {
  const sb = await sandbox(t, { clients: [{ clientId: 'seed', clientSecret: 'seed-secret' }] });
  const other = await clientWithToken(sb);
  const seedToken = ((await (await tokenRequest(sb, 'seed', 'seed-secret')).json()) as { access_token: string }).access_token;
  const channel = await channelWith(sb, seedToken, [TOPIC]);
  const s = await connect(t, channel.connectUri);
  sb.admin.reset();
  await s.closed;
  assert.equal((await tokenRequest(sb, 'seed', 'seed-secret')).status, 200);
  assert.equal((await tokenRequest(sb, other.clientId, other.clientSecret)).status, 401);
  assert.equal((await api(sb, seedToken, 'HEAD', '/tokens/me')).status, 401);
  assert.equal(await upgradeStatus(channel.connectUri), 404);
  const c = sb.admin.counters();
  assert.equal(c.tokensMinted.seed, 1);
  assert.equal(c.socketsClosed, 0);
});
