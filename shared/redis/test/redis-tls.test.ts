// The TLS settings and the ioredis options built from them, per mode. Connections over TLS to real
// TLS-only servers (standalone, Sentinel, Cluster) are in test/system/redis-tls.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterOptions, redisConfigSchema, sentinelOptions, tlsConnectOptions, type RedisConfig } from '../src/index.js';

// Shapes only: the schema checks for PEM armour, not for a real certificate.
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
const OTHER_CA = '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----';
const sentinels = [{ host: 'sentinel-0.redis', port: 26379 }];
const nodes = [{ host: 'redis-0.redis', port: 6379 }];

const parse = (config: unknown) => redisConfigSchema.parse(config);
const issues = (config: unknown) => {
  const r = redisConfigSchema.safeParse(config);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('every mode takes a tls block; rejectUnauthorized defaults to true', () => {
  for (const config of [
    { mode: 'standalone', url: 'rediss://redis:6380', tls: { ca: CA } },
    { mode: 'sentinel', name: 'm', sentinels, tls: { ca: CA }, sentinelTls: { ca: OTHER_CA } },
    { mode: 'cluster', nodes, tls: { ca: CA, servername: 'redis.internal' } },
  ]) {
    const parsed = parse(config) as RedisConfig & { tls: { rejectUnauthorized: boolean } };
    assert.equal(parsed.tls.rejectUnauthorized, true, config.mode);
  }
});

test('contradictory or malformed TLS settings are refused, naming the setting', () => {
  assert.deepEqual(issues({ mode: 'standalone', url: 'redis://redis:6379', tls: { ca: CA } }), ['url: a tls block needs a rediss:// URL (redis:// is plain TCP)']);
  assert.ok(issues({ mode: 'cluster', nodes, tls: { cert: CA } }).some((i) => i.startsWith('tls: cert and key go together')));
  assert.ok(issues({ mode: 'cluster', nodes, tls: { ca: 'not a pem' } }).some((i) => i.startsWith('tls.ca: must be PEM')));
  assert.ok(issues({ mode: 'sentinel', name: 'm', sentinels, tls: { key: CA, cert: CA } }).some((i) => i.startsWith('tls.key: must be PEM')));
  // A misspelt or unresolved setting (a path where PEM belongs) is not silently dropped.
  assert.ok(issues({ mode: 'standalone', url: 'rediss://redis:6380', tls: { caPath: '/etc/ca.crt' } }).some((i) => /caPath/.test(i)));
});

test('tls.connect options: only what is set, verification on unless turned off', () => {
  assert.deepEqual(tlsConnectOptions({ rejectUnauthorized: true }), { rejectUnauthorized: true });
  assert.deepEqual(tlsConnectOptions({ ca: CA, cert: CA, key: KEY, servername: 'r', rejectUnauthorized: false }), { ca: CA, cert: CA, key: KEY, servername: 'r', rejectUnauthorized: false });
});

test('Sentinel: the data connections use tls with enableTLSForSentinelMode; the sentinels use sentinelTls, else tls', () => {
  const both = sentinelOptions(parse({ mode: 'sentinel', name: 'm', sentinels, password: 'p', tls: { ca: CA } }) as Extract<RedisConfig, { mode: 'sentinel' }>);
  assert.equal(both.enableTLSForSentinelMode, true);
  assert.deepEqual(both.tls, { ca: CA, rejectUnauthorized: true });
  assert.deepEqual(both.sentinelTLS, { ca: CA, rejectUnauthorized: true });
  assert.equal(both.password, 'p');

  const own = sentinelOptions(parse({ mode: 'sentinel', name: 'm', sentinels, tls: { ca: CA }, sentinelTls: { ca: OTHER_CA, servername: 's' } }) as Extract<RedisConfig, { mode: 'sentinel' }>);
  assert.deepEqual(own.sentinelTLS, { ca: OTHER_CA, servername: 's', rejectUnauthorized: true });
  assert.deepEqual(own.tls, { ca: CA, rejectUnauthorized: true });

  const plain = sentinelOptions(parse({ mode: 'sentinel', name: 'm', sentinels }) as Extract<RedisConfig, { mode: 'sentinel' }>);
  for (const key of ['tls', 'sentinelTLS', 'enableTLSForSentinelMode'] as const) assert.equal(plain[key], undefined, key);
});

test('Cluster: every node connection gets tls, and seed host names reach the TLS check unresolved', async () => {
  const options = clusterOptions(parse({ mode: 'cluster', nodes, password: 'p', tls: { ca: CA } }) as Extract<RedisConfig, { mode: 'cluster' }>);
  assert.deepEqual(options.redisOptions?.tls, { ca: CA, rejectUnauthorized: true });
  assert.equal(options.redisOptions?.password, 'p');
  const lookup = options.dnsLookup!;
  const resolved = await new Promise<string>((resolve, reject) => lookup('redis-0.redis.gtb.svc', (err, address) => (err ? reject(err) : resolve(address))));
  assert.equal(resolved, 'redis-0.redis.gtb.svc', 'the name is kept, so the certificate is checked against it');

  const plain = clusterOptions(parse({ mode: 'cluster', nodes }) as Extract<RedisConfig, { mode: 'cluster' }>);
  assert.equal(plain.redisOptions?.tls, undefined);
  assert.equal(plain.dnsLookup, undefined, 'without TLS ioredis resolves names as usual');
});
