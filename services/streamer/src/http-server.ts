import { createServer, type Server } from 'node:http';
import type { Streamer } from './app.js';

/** `/healthz`, `/readyz` and `/metrics` on a small node:http server (not yet listening). */
export function createOpsServer(streamer: Streamer): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/problem+json' }).end(JSON.stringify({ code: 'ERR_METHOD_NOT_ALLOWED', status: 405, title: 'Method not allowed' }));
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ status: 'ok', instance: streamer.instanceId }));
      return;
    }
    if (path === '/readyz') {
      const h = streamer.health();
      res.writeHead(h.ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ ready: h.ready, streams: h.streams }));
      return;
    }
    if (path === '/metrics') {
      streamer.health(); // refreshes the gauges
      streamer.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': streamer.metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ code: 'ERR_NOT_FOUND', status: 404, title: 'Not found' }));
  });
}
