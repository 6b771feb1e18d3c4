// The streamer's lease client against a broker serving HTTPS with a certificate from a private CA:
// `brokerCa` (given as `brokerCaFile`) is what lets it in; without it the call fails as unreachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@gtb/config';
import { startSystem, startReplica } from '../support/system.js';
import { certDir, createTestCa } from '../support/test-certs.js';
import { streamerConfigSchema } from '../../services/streamer/src/config.js';
import { createStreamerBroker } from '../../services/streamer/src/broker.js';

test('the streamer leases a token from an HTTPS broker through brokerCaFile; without the CA it cannot', async (t) => {
  const ca = await createTestCa();
  const leaf = await ca.issue();
  const files = await certDir();
  t.after(() => files.close());
  const sys = await startSystem();
  t.after(() => sys.close());
  const tls = { certPath: await files.write('tls.crt', leaf.cert), keyPath: await files.write('tls.key', leaf.key) };
  const broker = await startReplica(sys, { http: { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 2000, tls }, instanceId: 'tls-streamer' });
  t.after(() => broker.stop());
  assert.match(broker.url, /^https:/);

  // The streamer's own configuration, loaded as in production: brokerCaFile becomes brokerCa.
  const caFile = await files.write('broker-ca.crt', ca.cert);
  const configFile = join(files.dir, 'streamer.json');
  writeFileSync(configFile, JSON.stringify({
    redis: { mode: 'standalone', url: 'redis://127.0.0.1:6379' },
    brokerUrl: broker.url, brokerCaFile: caFile,
    identity: { issuer: sys.idp.issuer, clientId: 'streamer', clientSecret: 'streamer-secret', allowInsecure: true },
    streams: [{ name: 's1', profile: 'sales', topics: ['v2.users.x.presence'] }],
  }));
  const config = loadConfig(streamerConfigSchema, { file: configFile, env: {}, envPrefix: 'GTB_STREAMER_TEST_' });
  assert.ok(config.brokerCa?.includes('BEGIN CERTIFICATE'));

  const idpToken = () => sys.tokenFor('streamer');
  const client = createStreamerBroker({ brokerUrl: config.brokerUrl, ca: config.brokerCa, idpToken });
  // The broker gets ready in the background (Redis subscription): retry the first grant briefly.
  let lease;
  for (let attempt = 0; ; attempt++) {
    try {
      lease = await client.acquireLease('sales', 'tls-test', 30);
      break;
    } catch (err) {
      if (attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  assert.ok(lease.token.accessToken.length > 10);
  assert.equal(typeof lease.token.fingerprint, 'string');
  await client.releaseLease(lease.leaseId);

  // Node's fetch with the system roots: the broker's certificate is refused.
  const untrusting = createStreamerBroker({ brokerUrl: config.brokerUrl, idpToken });
  await assert.rejects(untrusting.acquireLease('sales', 'tls-test', 30), { code: 'ERR_BROKER_UNREACHABLE' });
  // A CA that did not sign it does not help either.
  const stranger = await createTestCa('another CA');
  const wrongCa = createStreamerBroker({ brokerUrl: config.brokerUrl, ca: stranger.cert, idpToken });
  await assert.rejects(wrongCa.acquireLease('sales', 'tls-test', 30), { code: 'ERR_BROKER_UNREACHABLE' });
});
