// The machine APIs behind the operator console, against a real broker, Redis, IdP and sandbox:
// profile state with the mint history, the lifecycle feed as JSON and as server-sent events (a
// rotation arrives live, and a reconnect resumes after Last-Event-ID), stream state as streamers
// report it, and the console's static files under a strict CSP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSystem } from '../../../test/support/system.js';
import { waitFor } from '../../../test/support/wait.js';

/** Reads server-sent events from a fetch body until `until` says stop (or the timeout). */
async function readSse(res: Response, until: (events: { id: string; event: string; data: string }[]) => boolean, timeoutMs = 15_000) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: { id: string; event: string; data: string }[] = [];
  let buffer = '';
  const deadline = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) => block.split('\n').filter((l) => l.startsWith(`${name}: `)).map((l) => l.slice(name.length + 2)).join('\n');
        if (field('data')) events.push({ id: field('id'), event: field('event'), data: field('data') });
      }
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => undefined);
  }
  return events;
}

test('console APIs: profiles with mint history, lifecycle feed (JSON and live SSE), streams, console assets', { timeout: 90_000 }, async (t) => {
  const sys = await startSystem({
    brokerOverrides: { console: { clientId: 'gtb-console', scope: 'openid' } },
  });
  t.after(() => sys.close());

  await t.test('a mint shows in the profile state: when, which replica, how long, and in the hourly counts', async () => {
    assert.equal((await sys.get('/v1/tokens/sales')).status, 200);
    const body = await waitFor('the mint in the history', async () => {
      const b = await (await sys.get('/v1/profiles', 'admin')).json() as { profiles: { name: string; cache: { fingerprint?: string; refreshAt?: number }; mints: { last: { instance: string; ms: number; at: string } | null; per_hour_24h: number[] } }[] };
      return b.profiles[0]?.mints.last ? b : undefined;
    });
    const sales = body.profiles[0]!;
    assert.equal(sales.mints.last!.instance, (sys.rawConfig as { instanceId: string }).instanceId);
    assert.ok(sales.mints.last!.ms >= 0);
    assert.equal(sales.mints.per_hour_24h.length, 24);
    assert.equal(sales.mints.per_hour_24h[23], 1);
    assert.match(String(sales.cache.fingerprint), /^[0-9a-f]{12}$/);
    assert.ok(typeof sales.cache.refreshAt === 'number');
  });

  await t.test('the leases list says who owns each lease and when it was granted', async () => {
    const grant = await sys.get('/v1/leases', 'app', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ profile: 'sales', holder: 'console-test' }) });
    assert.equal(grant.status, 201);
    const { leases } = await (await sys.get('/v1/leases', 'admin')).json() as { leases: { holder: string; owner: string; granted_at: string; access_token?: string }[] };
    const mine = leases.find((l) => l.holder === 'console-test');
    assert.ok(mine);
    assert.match(mine.owner, /\|demo-app$/);
    assert.ok(!Number.isNaN(Date.parse(mine.granted_at)));
    assert.equal(mine.access_token, undefined);
  });

  await t.test('GET /v1/events: the recent lifecycle events, filtered; a bad filter is a 400', async () => {
    const all = await (await sys.get('/v1/events?count=50', 'admin')).json() as { events: { id: string; event: { type: string } }[] };
    assert.ok(all.events.some((e) => e.event.type === 'token.minted'));
    assert.ok(all.events.some((e) => e.event.type === 'lease.granted'));
    const ids = all.events.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => (BigInt(a.split('-')[0]!) < BigInt(b.split('-')[0]!) ? -1 : 1)), 'oldest first');
    const leasesOnly = await (await sys.get('/v1/events?type=lease.granted', 'admin')).json() as { events: { event: { type: string } }[] };
    assert.ok(leasesOnly.events.length >= 1 && leasesOnly.events.every((e) => e.event.type === 'lease.granted'));
    assert.equal((await sys.get('/v1/events?type=nope', 'admin')).status, 400);
    assert.equal((await sys.get('/v1/events', 'app')).status, 403);
  });

  await t.test('GET /v1/events/stream: a rotation arrives live; a reconnect with Last-Event-ID gets what it missed', async () => {
    const ctrl = new AbortController();
    const res = await sys.get('/v1/events/stream?type=token.rotated', 'admin', { signal: ctrl.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reading = readSse(res, (events) => events.length >= 1);
    // The tail starts after the listener: rotate until the stream has seen one (the first may race the subscription).
    const rotated = await (await sys.get('/v1/profiles/sales/rotate', 'admin', { method: 'POST' })).json() as { fingerprint: string };
    const events = await reading;
    ctrl.abort();
    assert.equal(events.length, 1, 'the rotation arrived on the open stream');
    const first = JSON.parse(events[0]!.data) as { type: string; data: { fingerprint: string } };
    assert.equal(first.type, 'token.rotated');
    assert.equal(first.data.fingerprint, rotated.fingerprint);
    assert.doesNotMatch(events[0]!.data, /access_token/);

    // Rotate again while no one listens, then resume after the first event's id.
    const second = await (await sys.get('/v1/profiles/sales/rotate', 'admin', { method: 'POST' })).json() as { fingerprint: string };
    const ctrl2 = new AbortController();
    const again = await sys.get('/v1/events/stream?type=token.rotated', 'admin', { signal: ctrl2.signal, headers: { 'last-event-id': events[0]!.id } });
    const missed = await readSse(again, (e) => e.length >= 1);
    ctrl2.abort();
    assert.equal((JSON.parse(missed[0]!.data) as { data: { fingerprint: string } }).data.fingerprint, second.fingerprint);
    assert.equal((await sys.get('/v1/events/stream', 'app')).status, 403, 'not for a non-admin');
  });

  await t.test('GET /v1/streams: what each streamer replica reports, a silent one marked dead, gaps from the lifecycle stream', async () => {
    const now = Date.now();
    const report = (instance: string, reportedAt: number, owner: boolean) => JSON.stringify({
      instance, reportedAt, intervalMs: 2000,
      streams: [{ name: 'presence', profile: 'sales', mode: 'active-passive', owner, receiving: owner, sockets: owner ? 1 : 0,
        channel: owner ? { fingerprint: 'abcdef012345', openedAt: now - 60_000, expiresAt: now + 3_600_000 } : null, topics: 2,
        eventsPerSecond: owner ? 12.5 : 0, lagMs: owner ? 3 : null, rollovers: { token_rotated: 1 }, gaps: 0, buffered: 0 }],
    });
    await sys.redis.set(`${sys.prefix}:streamer-state:s1`, report('s1', now, true), 'PX', 30_000);
    await sys.redis.set(`${sys.prefix}:streamer-state:s2`, report('s2', now - 20_000, false), 'PX', 30_000);
    // Each replica lists itself in the index, as the streamer's state reporter does; s3's key has expired.
    await sys.redis.zadd(`${sys.prefix}:streamer-states`, now, 's1', now - 20_000, 's2', now - 120_000, 's3');
    await sys.redis.xadd(`${sys.prefix}:events:{presence}`, '*', 'event', '{}');
    const body = await (await sys.get('/v1/streams', 'admin')).json() as {
      replicas: { instance: string; alive: boolean }[];
      streams: { name: string; mode: string; owners: string[]; last_event_at: string | null; replicas: { instance: string; events_per_second: number; channel_fingerprint: string | null }[] }[];
    };
    assert.deepEqual(body.replicas.map((r) => [r.instance, r.alive]), [['s1', true], ['s2', false]]);
    assert.deepEqual(await sys.redis.zrange(`${sys.prefix}:streamer-states`, 0, -1), ['s2', 's1'], 'a replica whose key expired leaves the index');
    const presence = body.streams.find((s) => s.name === 'presence')!;
    assert.equal(presence.mode, 'active-passive');
    assert.deepEqual(presence.owners, ['s1']);
    assert.ok(presence.last_event_at && Math.abs(Date.parse(presence.last_event_at) - Date.now()) < 60_000);
    assert.equal(presence.replicas.find((r) => r.instance === 's1')!.events_per_second, 12.5);
    assert.equal(presence.replicas.find((r) => r.instance === 's1')!.channel_fingerprint, 'abcdef012345');
  });

  await t.test('/console/: static files under a strict CSP that lets it reach only the broker and its IdP; sign-in settings', async () => {
    const config = await fetch(`${sys.broker.url}/console/config.json`);
    assert.equal(config.status, 200);
    assert.deepEqual(await config.json(), { issuer: sys.idp.issuer, clientId: 'gtb-console', scope: 'openid', resource: null });
    const csp = config.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.ok(csp.includes(`connect-src 'self' ${new URL(sys.idp.issuer).origin}`));
    const page = await fetch(`${sys.broker.url}/console/`);
    // Built by `npm run build`; a checkout that has not built it says how.
    if (page.status === 503) assert.match(await page.text(), /npm run build/);
    else {
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.doesNotMatch(html, /<script>|<style>|\sstyle=|\son[a-z]+=/i, 'no inline script or style');
      assert.equal((await fetch(`${sys.broker.url}/console/callback?code=x&state=y`)).status, 200);
    }
  });
});
