/** Baseline process: a bare node:http server answering every request with the constant JSON. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toRunner, onRunnerMessage } from '../workers/ipc.js';
import { CONSTANT_BODY } from './constant-body.js';

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(CONSTANT_BODY) });
  res.end(CONSTANT_BODY);
});
server.keepAliveTimeout = 65_000; // as the broker's
onRunnerMessage(() => undefined);
server.listen(0, '127.0.0.1', () => toRunner({ type: 'listening', port: (server.address() as AddressInfo).port }));
