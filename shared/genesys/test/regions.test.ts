import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REGIONS, hostsFor, isRegion } from '../src/index.js';

test('all 18 regions of the official JS SDK map to login and api hosts', () => {
  assert.equal(Object.keys(REGIONS).length, 18);
  assert.deepEqual(hostsFor('eu_central_1'), { loginBaseUrl: 'https://login.mypurecloud.de', apiBaseUrl: 'https://api.mypurecloud.de' });
  assert.deepEqual(hostsFor('eusc_de_east_1'), { loginBaseUrl: 'https://login.edee1.eusc-pure.cloud', apiBaseUrl: 'https://api.edee1.eusc-pure.cloud' });
  assert.equal(hostsFor('us_east_2').apiBaseUrl, 'https://api.use2.us-gov-pure.cloud');
});

test('an unknown region is refused with a code', () => {
  assert.equal(isRegion('toString'), false);
  assert.throws(() => hostsFor('us-east-1'), { code: 'ERR_VALIDATION' });
  assert.throws(() => hostsFor('__proto__'), { code: 'ERR_VALIDATION' });
});
