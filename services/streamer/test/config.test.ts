import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streamerConfigSchema } from '../src/index.js';

const valid = {
  redis: { mode: 'standalone', url: 'redis://127.0.0.1:6379' },
  brokerUrl: 'http://127.0.0.1:8080',
  identity: { issuer: 'http://127.0.0.1:9000', clientId: 'streamer', clientSecret: 's' },
  streams: [{ name: 'queues', profile: 'sales', topics: ['v2.routing.queues.abc.conversations'] }],
};

test('accepts a complete configuration and fills defaults', () => {
  const cfg = streamerConfigSchema.parse(valid);
  assert.equal(cfg.ha, 'active-active');
  assert.equal(cfg.keyPrefix, 'gtb');
});

test('rejects a stream without topics or with a bad topic', () => {
  assert.equal(streamerConfigSchema.safeParse({ ...valid, streams: [{ name: 'q', profile: 'p', topics: [] }] }).success, false);
  assert.equal(streamerConfigSchema.safeParse({ ...valid, streams: [{ name: 'q', profile: 'p', topics: ['users.x'] }] }).success, false);
});
