import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SandboxAdmin } from './admin.js';
import { createSandbox } from './app.js';
import type { SandboxOptions } from './options.js';

/** A listening sandbox. */
export interface RunningSandbox {
  /** `http://host:port`: the login base and the API base (same origin). */
  url: string;
  /** `ws://host:port`. */
  wsUrl: string;
  admin: SandboxAdmin;
  /** Closes sockets, timers and the server. */
  close(): Promise<void>;
}

/**
 * Builds the sandbox and listens on `host:port` (default 127.0.0.1, a free port). `wrap` wraps its
 * request listener (a test that traces the upstream too passes `withServerSpans` of @gtb/tracing).
 */
export async function startSandbox(options: SandboxOptions = {}, wrap: (listener: RequestListener) => RequestListener = (l) => l): Promise<RunningSandbox> {
  const sandbox = createSandbox(options);
  const { host, port } = sandbox.state.options;
  const server = createServer(wrap(sandbox.app));
  // Keep-alive sockets of test clients must not hold close() open.
  server.keepAliveTimeout = 5_000;
  sandbox.attachWebSocket(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  sandbox.state.publicBase = { host, port: actualPort };
  const hostPart = host.includes(':') ? `[${host}]` : host;
  sandbox.state.options.logger.info({ host, port: actualPort }, 'sandbox listening');
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostPart}:${actualPort}`,
    wsUrl: `ws://${hostPart}:${actualPort}`,
    admin: sandbox.admin,
    close() {
      closing ??= (async () => {
        await sandbox.shutdown();
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await done;
      })();
      return closing;
    },
  };
}
