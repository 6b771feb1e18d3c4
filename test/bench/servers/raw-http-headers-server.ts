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
import { answerHeaders, securityHeadersOf } from '../../../services/broker/src/http/token-fast-path.js';
import { rateLimitHeaderValues } from '../../../services/broker/src/http/caller-rate-limit.js';
import { toRunner, onRunnerMessage } from '../workers/ipc.js';
import { CONSTANT_BODY } from './constant-body.js';

const LIMIT = 1_000_000; // the bench brokers' per-caller limit
const LENGTH = String(Buffer.byteLength(CONSTANT_BODY));
// The broker's own answer headers (token-fast-path.ts), around helmet's as the broker records them.
const headersOf = answerHeaders(securityHeadersOf(helmet()));
let served = 0;

const server = createServer((_req, res) => {
  // The broker's own header text (caller-rate-limit.ts), from a count that changes as the broker's does.
  const limits = rateLimitHeaderValues(LIMIT, { totalHits: (served++ % LIMIT) + 1, resetTime: undefined });
  res.writeHead(200, headersOf(randomUUID(), limits, LENGTH));
  res.end(CONSTANT_BODY);
});
server.keepAliveTimeout = 65_000; // as the broker's
onRunnerMessage(() => undefined);
server.listen(0, '127.0.0.1', () => toRunner({ type: 'listening', port: (server.address() as AddressInfo).port }));
