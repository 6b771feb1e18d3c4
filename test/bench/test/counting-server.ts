/** A loopback HTTP server for the bench's own tests that counts connections, requests and paths. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface CountingServer {
  url: string;
  connections(): number;
  requests(): number;
  paths(): Map<string, number>;
  authorizations(): Set<string>;
}

export async function startCountingServer(t: TestContext, status = 200): Promise<CountingServer> {
  let connections = 0;
  let requests = 0;
  const paths = new Map<string, number>();
  const authorizations = new Set<string>();
  const s: Server = createServer((req, res) => {
    requests += 1;
    paths.set(req.url ?? '', (paths.get(req.url ?? '') ?? 0) + 1);
    if (req.headers.authorization) authorizations.add(req.headers.authorization);
    res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  s.on('connection', () => { connections += 1; });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); }));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    connections: () => connections, requests: () => requests, paths: () => paths, authorizations: () => authorizations,
  };
}
