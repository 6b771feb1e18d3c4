import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A port free on 127.0.0.1 right now. The broker's main.ts does not report the port it got from
 * port 0 (it logs it only at info level), so the runner picks one and hands it over.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
