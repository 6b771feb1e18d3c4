/**
 * Baseline process: Express 5 + helmet (the broker's own stack) answering `GET /v1/tokens/:profile`
 * with the constant JSON and no other work. Settings as the broker's: no etag, no x-powered-by.
 */
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import express from 'express';
import helmet from 'helmet';
import { toRunner, onRunnerMessage } from '../workers/ipc.js';
import { CONSTANT_BODY } from './constant-body.js';

const body: unknown = JSON.parse(CONSTANT_BODY);
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(helmet());
app.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
app.get('/v1/tokens/:profile', (_req, res) => {
  res.setHeader('Cache-Control', 'no-store');
  res.json(body);
});
const server = createServer(app);
server.keepAliveTimeout = 65_000;
onRunnerMessage(() => undefined);
server.listen(0, '127.0.0.1', () => toRunner({ type: 'listening', port: (server.address() as AddressInfo).port }));
