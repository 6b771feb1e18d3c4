// After a representative run of the whole system (a broker minting, rotating, revoking, exchanging
// and leasing; a streamer on the sandbox's notification sockets through rollovers, a noticed close
// and a drop), nothing the sandbox handed out as a secret is anywhere the system writes: not in
// any Redis key under the run's prefix (raw bytes as stored, every type), not in a log line of the
// broker or the streamer (at debug), not in a lifecycle event (stream and pub/sub). Each test
// cleans its Redis keys when it ends, so this test makes its own run rather than looking after the
// suite's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRedis, type RedisClient } from '@gtb/redis';
import { fingerprint } from '@gtb/logger';
import { epoch, signToken } from '../fixtures/idp/forge.js';
import { CLIENTS, REDIS_URL, startSystem, type TestSystem } from '../support/system.js';
import { buildStreamer, readOutput, streamerConfigFor, streamerTiming, STREAMING_SANDBOX, type BuiltStreamer } from '../support/streamer-harness.js';
import { waitFor } from '../support/wait.js';
import { streamerConfigSchema } from '../../services/streamer/src/index.js';

// Debug lines too: a secret in a debug line leaks as surely as one at info.
process.env.STREAMER_TEST_LOG ??= 'debug';

const TOPIC = 'v2.routing.queues.q1.conversations';
const STREAM = 'queues';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token';

/** One place the system wrote to, and its text (raw bytes read as Latin-1, so any byte matches itself). */
interface Place { where: string; text: string }

/** Every key under the prefix, every value of every type, as stored. */
async function redisPlaces(redis: RedisClient, prefix: string): Promise<Place[]> {
  const places: Place[] = [];
  let cursor = '0';
  const keys = new Set<string>();
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    for (const k of batch) keys.add(k);
  } while (cursor !== '0');
  const latin1 = (parts: (Buffer | string)[]) => parts.map((p) => (Buffer.isBuffer(p) ? p.toString('latin1') : p)).join('\n');
  for (const key of keys) {
    const type = await redis.type(key);
    let values: (Buffer | string)[];
    if (type === 'string') values = [(await redis.getBuffer(key)) ?? ''];
    else if (type === 'hash') values = Object.entries(await redis.hgetallBuffer(key)).flatMap(([f, v]) => [f, v]);
    else if (type === 'stream') values = (await redis.xrangeBuffer(key, '-', '+')).flatMap(([id, fields]) => [id, ...fields]);
    else if (type === 'set') values = await redis.smembersBuffer(key);
    else if (type === 'list') values = await redis.lrangeBuffer(key, 0, -1);
    else if (type === 'zset') values = await redis.zrangeBuffer(key, 0, -1, 'WITHSCORES');
    else if (type === 'none') continue; // expired between SCAN and TYPE
    else throw new Error(`a key of type ${type} the scan cannot read: ${key}`);
    places.push({ where: `redis ${type} ${key}`, text: `${key}\n${latin1(values)}` });
  }
  return places;
}

/** The secrets the sandbox handed out, and the others the run holds (IdP client secrets, the cache key). */
function secretsOf(sys: TestSystem): Map<string, string> {
  const issued = sys.sandbox.admin.issuedSecrets();
  const secrets = new Map<string, string>();
  for (const s of issued.accessTokens) secrets.set(s, 'Genesys access token');
  for (const s of issued.clientSecrets) secrets.set(s, 'Genesys client secret');
  for (const s of issued.channelIds) secrets.set(s, 'channel id');
  for (const s of issued.connectUris) secrets.set(s, 'connect URI');
  for (const c of Object.values(CLIENTS)) secrets.set(c.client_secret, 'IdP client secret');
  const encryption = sys.rawConfig.encryption as { keys: { key: string }[] };
  for (const k of encryption.keys) secrets.set(k.key, 'cache encryption key');
  return secrets;
}

/** The text with every secret replaced by its kind and fingerprint. */
function mask(text: string, secrets: Map<string, string>): string {
  return [...secrets].reduce((x, [secret, kind]) => x.replaceAll(secret, `<${kind} ${fingerprint(secret)}>`), text);
}

/** Where each secret appears, masked: a failure must not spread the secret either. */
function scan(places: Place[], secrets: Map<string, string>): { found: string[]; context: string } {
  const found: string[] = [];
  const contexts: string[] = [];
  for (const place of places) {
    for (const [secret, kind] of secrets) {
      if (!place.text.includes(secret)) continue;
      found.push(`${kind} ${fingerprint(secret)} in ${place.where.replaceAll(secret, '<secret>')}`);
      contexts.push(mask(place.text, secrets).slice(0, 400));
    }
  }
  return { found, context: contexts.join('\n') };
}

test('no token, client secret, connect URI or channel id in Redis, logs or lifecycle events after a full run', { timeout: 180_000 }, async (t) => {
  // Channels live 4 s, so expiry rollovers happen on their own during the run.
  const sys = await startSystem({ logLevel: 'debug', sandbox: { ...STREAMING_SANDBOX, channelLifetimeMs: 4_000 }, brokerOverrides: { leases: { defaultTtlSeconds: 60, maxTtlSeconds: 600, graceSeconds: 1, sweepIntervalMs: 200 } } });
  t.after(() => sys.close());
  // Pub/sub copies of lifecycle events, as a subscriber sees them.
  const published: Place[] = [];
  const sub = createRedis({ mode: 'standalone', url: REDIS_URL });
  t.after(() => { sub.disconnect(); });
  sub.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => {
    published.push({ where: `pub/sub ${channel.toString('latin1')}`, text: message.toString('latin1') });
  });
  await sub.psubscribe(`${sys.prefix}:lifecycle:*`);

  const config = streamerConfigSchema.parse(streamerConfigFor({
    instanceId: `scan-${randomUUID().slice(0, 8)}`, redis: { mode: 'standalone', url: REDIS_URL }, keyPrefix: sys.prefix, brokerUrl: sys.broker.url,
    issuer: sys.idp.issuer, ownerLockTtlMs: 1_500, timing: streamerTiming({ heartbeatTimeoutMs: 1_500, pongTimeoutMs: 1_000, connectTimeoutMs: 10_000 }),
    dedupeWindowMs: 120_000, streams: [{ name: STREAM, profile: 'sales', topics: [TOPIC] }],
  }));
  const streamer: BuiltStreamer = await buildStreamer(config, sys.idp, 20_000);
  t.after(() => streamer.stop());
  await streamer.streamer.start();
  await waitFor('the streamer receiving', () => streamer.streamer.health().ready, { timeoutMs: 30_000 });

  const broker = sys.broker.url;
  const as = async (client: keyof typeof CLIENTS) => ({ authorization: `Bearer ${await sys.tokenFor(client)}` });
  const expect = async (res: Promise<Response>, status: number) => {
    const r = await res;
    assert.equal(r.status, status, `${r.url}: ${r.status}`);
    return r.status === 204 ? undefined : await r.json() as Record<string, unknown>;
  };
  // The broker's token paths: a token, the hit path, a token exchange, a lease's life.
  const first = await expect(fetch(`${broker}/v1/tokens/sales`, { headers: await as('app') }), 200);
  await expect(fetch(`${broker}/v1/tokens/sales`, { headers: await as('app') }), 200);
  await expect(fetch(`${broker}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: EXCHANGE, subject_token: await sys.tokenFor('app'), subject_token_type: ACCESS, audience: 'sales' }),
  }), 200);
  const lease = await expect(fetch(`${broker}/v1/leases`, { method: 'POST', headers: { ...(await as('app')), 'content-type': 'application/json' }, body: JSON.stringify({ profile: 'sales', holder: 'scan' }) }), 201);
  await expect(fetch(`${broker}/v1/leases/${String(lease!.lease_id)}/renew`, { method: 'POST', headers: await as('app') }), 200);
  await expect(fetch(`${broker}/v1/leases/${String(lease!.lease_id)}`, { method: 'DELETE', headers: await as('app') }), 204);
  // Refusals log too: no rule, an expired IdP token, bad input.
  await expect(fetch(`${broker}/v1/tokens/sales`, { headers: await as('stranger') }), 403);
  const expired = await signToken({ iss: sys.idp.issuer, aud: sys.idp.audience, sub: 'demo-app', client_id: 'demo-app', groups: ['sales-apps'], iat: epoch(-600), exp: epoch(-120) }, { key: sys.idp.signingKey, kid: sys.idp.kid });
  await expect(fetch(`${broker}/v1/tokens/sales`, { headers: { authorization: `Bearer ${expired}` } }), 401);
  await expect(fetch(`${broker}/v1/leases`, { method: 'POST', headers: { ...(await as('app')), 'content-type': 'application/json' }, body: '{"profile":' }), 400);

  // Events through the streamer, with a noticed close, a drop, rotations and revocations meanwhile.
  const generating = sys.sandbox.admin.generateEvents({ topic: TOPIC, count: 400, ratePerSecond: 100 });
  await sleep(800);
  await expect(fetch(`${broker}/v1/profiles/sales/rotate`, { method: 'POST', headers: await as('admin') }), 200);
  for (const id of sys.sandbox.admin.connectedChannels()) sys.sandbox.admin.closeSocket(id, { notice: true });
  await sleep(800);
  // Genesys refuses the current token (revoked upstream); a holder reports it, the broker replaces it.
  const current = await expect(fetch(`${broker}/v1/tokens/sales`, { headers: await as('app') }), 200);
  sys.sandbox.admin.revokeToken(String(current!.access_token));
  await expect(fetch(`${broker}/v1/tokens/sales/rejected`, { method: 'POST', headers: { ...(await as('app')), 'content-type': 'application/json' }, body: JSON.stringify({ fingerprint: current!.fingerprint }) }), 200);
  // The revoked token took its channel's socket with it; drop the one the streamer opens next.
  await waitFor('a socket to drop', () => sys.sandbox.admin.connectedChannels().length > 0, { timeoutMs: 30_000 });
  assert.ok((sys.sandbox.admin.injectFault({ type: 'drop' }).dropped ?? 0) >= 1, 'a socket dropped');
  // A revocation with the streamer's lease live: rotate, grace, revoke the old token.
  await expect(fetch(`${broker}/v1/profiles/sales/token`, { method: 'DELETE', headers: await as('admin') }), 204);
  await generating;
  await sleep(4_500); // at least one channel expiry rollover
  await waitFor('the streamer receiving again', () => streamer.streamer.health().ready, { timeoutMs: 30_000 });
  await waitFor('events in the output stream', async () => (await readOutput(sys.redis, sys.prefix, STREAM)).length >= 200, { timeoutMs: 30_000 });
  await streamer.stop(); // its shutdown lines count too
  assert.notEqual(first!.access_token, current!.access_token, 'the run rotated the token');

  const redis = await redisPlaces(sys.redis, sys.prefix);
  const logs: Place[] = [
    ...sys.logLines.map((text, i) => ({ where: `broker log line ${i}`, text })),
    ...streamer.lines.map((text, i) => ({ where: `streamer log line ${i}`, text })),
  ];
  const lifecycle = (await sys.redis.xrange(`${sys.prefix}:lifecycle`, '-', '+')).map(([id, fields]) => ({ where: `lifecycle event ${id}`, text: fields.join('\n') }));
  const secrets = secretsOf(sys);
  const issued = sys.sandbox.admin.issuedSecrets();

  await t.test('the scan sees real data, so it can fail', () => {
    const types = new Set(lifecycle.map((e) => /"type":"([a-z_.]+)"/.exec(e.text)?.[1]));
    for (const type of ['token.minted', 'token.rotated', 'token.revoked', 'lease.granted', 'lease.renewed', 'lease.released', 'stream.connected', 'stream.rolled_over']) {
      assert.ok(types.has(type), `no ${type} event to look into (have ${[...types].join(', ')})`);
    }
    assert.ok(issued.accessTokens.length >= 4, `${issued.accessTokens.length} Genesys tokens issued`);
    assert.ok(issued.channelIds.length >= 3, `${issued.channelIds.length} channels issued`);
    assert.ok(redis.length >= 5 && redis.some((p) => p.where.startsWith('redis stream')) && redis.some((p) => p.where.startsWith('redis string')), `${redis.length} keys`);
    assert.ok(sys.logLines.length >= 20 && streamer.lines.length >= 10, `${sys.logLines.length} broker and ${streamer.lines.length} streamer log lines`);
    assert.ok(published.length >= 5, `${published.length} pub/sub messages`);
    t.diagnostic(`scanned ${redis.length} Redis keys, ${sys.logLines.length} broker and ${streamer.lines.length} streamer log lines, ${lifecycle.length} lifecycle events (+${published.length} on pub/sub) for ${secrets.size} secrets (${issued.accessTokens.length} Genesys tokens, ${issued.channelIds.length} channels)`);
  });

  await t.test('no secret anywhere', () => {
    const { found, context } = scan([...redis, ...logs, ...lifecycle, ...published], secrets);
    assert.deepEqual(found, [], `found in (masked):\n${context}`);
  });

  await t.test('the scanner finds a secret planted in a Redis hash and a log line', async () => {
    const planted = `${sys.prefix}:planted`;
    const token = issued.accessTokens[0]!;
    await sys.redis.hset(planted, 'note', `leaked ${token} here`);
    try {
      // Only the planted places: the scan of the run itself is the test above.
      const withPlanted = (await redisPlaces(sys.redis, sys.prefix)).filter((p) => p.where.endsWith(planted));
      assert.equal(withPlanted.length, 1);
      const { found } = scan([...withPlanted, { where: 'planted log line', text: `{"msg":"oops","token":"${token}"}` }], secrets);
      assert.deepEqual(found.sort(), [`Genesys access token ${fingerprint(token)} in planted log line`, `Genesys access token ${fingerprint(token)} in redis hash ${planted}`].sort());
    } finally {
      await sys.redis.del(planted);
    }
  });
});
