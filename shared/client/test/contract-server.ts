/**
 * A tiny HTTP server on 127.0.0.1 for the failures the real broker cannot be made to produce on
 * demand (a hang, a 503 with Retry-After from a given route, a malformed body). Everything else
 * runs against the real broker (system-harness.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Starts a server answering with `handler`; closed after the test. Returns its URL. */
export async function startContractServer(t: TestContext, handler: Handler): Promise<{ url: string; requests: () => number }> {
  let count = 0;
  const server = createServer((req, res) => {
    count += 1;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => count };
}

/** A URL where nothing listens: a server is started and closed to free its port. */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
