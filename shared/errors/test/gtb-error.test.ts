import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GtbError, isGtbError, isErrorCode, ERROR_CATALOGUE } from '../src/index.js';

test('takes status and title from the catalogue', () => {
  const err = new GtbError('ERR_PROFILE_NOT_ALLOWED');
  assert.equal(err.code, 'ERR_PROFILE_NOT_ALLOWED');
  assert.equal(err.status, 403);
  assert.equal(err.expose, true);
  assert.equal(err.message, ERROR_CATALOGUE.ERR_PROFILE_NOT_ALLOWED.title);
});

test('hides the message of every server error; the caller gets the title and when to retry', () => {
  const internal = new GtbError('ERR_INTERNAL', 'stack detail');
  assert.equal(internal.expose, false);
  assert.equal(internal.publicDetail, 'Internal error');
  const timeout = new GtbError('ERR_UPSTREAM_TIMEOUT', 'login: no answer from http://10.1.2.3:8443/oauth/token within 10000 ms');
  assert.equal(timeout.expose, false);
  assert.equal(timeout.publicDetail, 'Genesys did not answer in time; retry later');
  const redis = new GtbError('ERR_REDIS_UNAVAILABLE', 'redis read token: no answer within 2000 ms', { retryAfter: 1.2 });
  assert.equal(redis.expose, false);
  assert.equal(redis.publicDetail, 'Redis unavailable; retry after 2 s');
  assert.equal(new GtbError('ERR_UPSTREAM_REJECTED', 'Genesys login answered 400 invalid_grant').publicDetail, 'Genesys rejected the request');
  const client = new GtbError('ERR_VALIDATION', 'ttlSeconds: too big');
  assert.equal(client.expose, true);
  assert.equal(client.publicDetail, 'ttlSeconds: too big');
});

test('keeps cause, retryAfter and details', () => {
  const cause = new Error('boom');
  const err = new GtbError('ERR_UPSTREAM_THROTTLED', 'slow down', { cause, retryAfter: 7, details: { profile: 'p' } });
  assert.equal(err.cause, cause);
  assert.equal(err.retryAfter, 7);
  assert.deepEqual(err.details, { profile: 'p' });
});

test('isGtbError narrows by code', () => {
  const err = new GtbError('ERR_NOT_FOUND');
  assert.equal(isGtbError(err), true);
  assert.equal(isGtbError(err, 'ERR_NOT_FOUND'), true);
  assert.equal(isGtbError(err, 'ERR_BAD_REQUEST'), false);
  assert.equal(isGtbError(new Error('x')), false);
});

test('isErrorCode rejects unknown and inherited names', () => {
  assert.equal(isErrorCode('ERR_NOT_FOUND'), true);
  assert.equal(isErrorCode('toString'), false);
  assert.equal(isErrorCode(42), false);
});

test('every catalogue status is an HTTP error status', () => {
  for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
    assert.ok(entry.status >= 400 && entry.status < 600, code);
  }
});
