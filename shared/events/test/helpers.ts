import type { TestContext } from 'node:test';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger, fingerprint, type Logger } from '@gtb/logger';
import { createKeys, createRedis, waitReady, type Keys, type RedisClient } from '@gtb/redis';
import type { EventData, EventType } from '../src/index.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh Redis connection closed after the test. */
export async function connect(t: TestContext, name = 'events-test'): Promise<RedisClient> {
  const client = createRedis({ mode: 'standalone', url: REDIS_URL }, { connectionName: name });
  t.after(() => client.disconnect());
  await waitReady(client);
  return client;
}

/**
 * A unique key prefix whose lifecycle stream is deleted after the test, through a connection of
 * its own: the test's connections may already be closed when this runs (after-hooks run in the
 * order they were added), which once left every events test's stream behind in the shared Redis.
 */
export function uniqueKeys(t: TestContext): Keys {
  const keys = createKeys(`test:${randomUUID()}`);
  t.after(async () => {
    const client = createRedis({ mode: 'standalone', url: REDIS_URL }, { connectionName: 'events-test-cleanup' });
    try {
      await waitReady(client);
      await client.del(keys.lifecycleStream());
    } finally {
      client.disconnect();
    }
  });
  return keys;
}

/** A logger whose JSON lines land in `lines`, to check what was (not) logged. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[]; text: () => string } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ name: 'events-test', level: 'debug', destination: stream }), lines, text: () => JSON.stringify(lines) };
}

const fp1 = fingerprint('token-one');
const fp2 = fingerprint('token-two');
const later = '2030-01-01T00:00:00.000Z';

/** A valid subject and data for every event type. */
export const SAMPLES: { [K in EventType]: { subject: string; data: EventData<K> } } = {
  'token.minted': { subject: 'sales', data: { profile: 'sales', fingerprint: fp1, expiresAt: later, fence: 1 } },
  'token.rotated': { subject: 'sales', data: { profile: 'sales', fingerprint: fp2, expiresAt: later, previousFingerprint: fp1, fence: 2 } },
  'token.revoked': { subject: 'sales', data: { profile: 'sales', fingerprint: fp2, reason: 'admin' } },
  'token.mint_failed': { subject: 'sales', data: { profile: 'sales', code: 'ERR_UPSTREAM_REJECTED', message: 'invalid_client' } },
  'token.rate_limited': { subject: 'sales', data: { profile: 'sales', retryAfterSeconds: 30 } },
  'lease.granted': { subject: 'sales', data: { leaseId: 'l-1', profile: 'sales', holder: 'streamer-a', leaseExpiresAt: later, fingerprint: fp1 } },
  'lease.renewed': { subject: 'sales', data: { leaseId: 'l-1', profile: 'sales', holder: 'streamer-a', leaseExpiresAt: later } },
  'lease.released': { subject: 'sales', data: { leaseId: 'l-1', profile: 'sales', holder: 'streamer-a', leaseExpiresAt: later } },
  'lease.expired': { subject: 'sales', data: { leaseId: 'l-1', profile: 'sales', holder: 'streamer-a', leaseExpiresAt: later } },
  'stream.handshake_initiated': { subject: 'queues', data: { stream: 'queues', profile: 'sales', channelFingerprint: fingerprint('streaming-2-aa5h48uk0srhpugh2994klj918') } },
  'stream.connected': { subject: 'queues', data: { stream: 'queues', channelFingerprint: fingerprint('streaming-2-aa5h48uk0srhpugh2994klj918'), connectionId: 'c-1' } },
  'stream.dropped': { subject: 'queues', data: { stream: 'queues', channelFingerprint: fingerprint('ch-1'), reason: 'socket_closing', closeCode: 1000, planned: true } },
  'stream.rolled_over': { subject: 'queues', data: { stream: 'queues', fromChannelFingerprint: fingerprint('ch-1'), toChannelFingerprint: fingerprint('ch-2'), trigger: 'socket_closing', overlapMs: 1200 } },
  'stream.gap_opened': { subject: 'queues', data: { stream: 'queues', gapId: 'streamer-a:1a2b3c4d', from: '2029-01-01T00:00:00.000Z', lastSequence: 41, reason: 'socket dropped' } },
  'stream.gap': { subject: 'queues', data: { stream: 'queues', from: '2029-01-01T00:00:00.000Z', to: '2029-01-01T01:00:05.000+01:00', lastSequence: 41, reason: 'unplanned drop' } },
  'stream.failover': { subject: 'queues', data: { stream: 'queues', fromInstance: 'streamer-a', toInstance: 'streamer-b', fence: 7 } },
};
