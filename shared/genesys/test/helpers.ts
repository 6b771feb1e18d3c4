import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { createLogger } from '@gtb/logger';
import { startSandbox, type RunningSandbox } from '@gtb/sandbox';

/** The sandbox as Genesys, quiet, closed after the test. */
export async function sandboxFor(t: TestContext): Promise<RunningSandbox> {
  const sb = await startSandbox({ port: 0, logger: createLogger({ name: 'sandbox', level: 'silent' }) });
  t.after(() => sb.close());
  return sb;
}

/**
 * A tiny loopback server for answers the sandbox cannot be made to give (bad JSON, a 429 from the
 * login host, odd token_type casing). Everything else is tested against the sandbox.
 */
export async function fakeServer(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
