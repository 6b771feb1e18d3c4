/**
 * Baseline process: bare node:http writing the broker's hit-path answer without the broker's work
 * behind it. The same headers in the same order (helmet's, recorded by the broker's own
 * `securityHeadersOf`; a fresh X-Request-Id; the two rate-limit headers with a changing count;
 * Cache-Control, Pragma, Content-Type, Content-Length) around the constant JSON. Next to `raw-http`
 * (two headers) it shows what the answer's bytes cost node:http, so that the broker's own share of
 * a hit (identity, policy, rate limit, token, metrics, log lines) can be read off the table.
 */
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import helmet from 'helmet';
import { securityHeadersOf } from '../../../services/broker/src/http/token-fast-path.js';
import { rateLimitHeaderValues } from '../../../services/broker/src/http/caller-rate-limit.js';
import { toRunner, onRunnerMessage } from '../workers/ipc.js';
import { CONSTANT_BODY } from './constant-body.js';

const LIMIT = 1_000_000; // the bench brokers' per-caller limit
const security = securityHeadersOf(helmet());
const template = [
  ...security,
  'X-Request-Id', '',
  'RateLimit-Policy', '',
  'RateLimit', '',
  'Cache-Control', 'no-store',
  'Pragma', 'no-cache',
  'Content-Type', 'application/json; charset=utf-8',
  'Content-Length', String(Buffer.byteLength(CONSTANT_BODY)),
];
const REQUEST_ID_AT = security.length + 1;
const POLICY_AT = REQUEST_ID_AT + 2;
const STATE_AT = POLICY_AT + 2;
let served = 0;

const server = createServer((_req, res) => {
  const headers = template.slice();
  headers[REQUEST_ID_AT] = randomUUID();
  // The broker's own header text (caller-rate-limit.ts), from a count that changes as the broker's does.
  const limits = rateLimitHeaderValues(LIMIT, { totalHits: (served++ % LIMIT) + 1, resetTime: undefined });
  headers[POLICY_AT] = limits.policy;
  headers[STATE_AT] = limits.state;
  res.writeHead(200, headers);
  res.end(CONSTANT_BODY);
});
server.keepAliveTimeout = 65_000; // as the broker's
onRunnerMessage(() => undefined);
server.listen(0, '127.0.0.1', () => toRunner({ type: 'listening', port: (server.address() as AddressInfo).port }));
