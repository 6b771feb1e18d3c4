/**
 * "The usual practice": one process of an app fleet using the official Genesys JS SDK. It builds
 * `instances` separate SDK ApiClient objects (each stands for one app instance with its own login),
 * points them at the sandbox with `setGateway`, and on `fire` every one calls
 * `loginClientCredentialsGrant(id, secret)` once, all at the same time. No retries: the SDK has none.
 * Messages: `prepare {port, clientId, clientSecret, instances}` → `ready`; `fire` → `result`.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import platformClient from 'purecloud-platform-client-v2';
import { encodeLatencies, latencyHistogram, recordMs, summarize } from '../lib/latency.js';
import { onRunnerMessage, toRunner } from './ipc.js';

/** The part of the SDK's ApiClient this worker uses (its class is exported as `ApiClientClass`). */
interface SdkApiClient {
  setGateway(gateway: { host: string; protocol: string; port: number; path_params_login: string; path_params_api: string }): void;
  loginClientCredentialsGrant(clientId: string, clientSecret: string): Promise<{ accessToken?: string }>;
}

interface Prepared {
  clients: SdkApiClient[];
  clientId: string;
  clientSecret: string;
}

let prepared: Prepared | undefined;

onRunnerMessage(async (message) => {
  if (message.type === 'prepare') {
    const { ApiClientClass } = platformClient as unknown as { ApiClientClass: new () => SdkApiClient };
    const count = Number(message['instances']);
    const port = Number(message['port']);
    // Every ApiClient's Configuration watches ~/.genesyscloudjavascript/config (fs.watchFile), so
    // many clients in one process trip Node's 10-listener leak warning on that one StatWatcher.
    // Expected here (one process stands for many app instances), so the warning is raised past it.
    EventEmitter.defaultMaxListeners = Math.max(EventEmitter.defaultMaxListeners, count + 10);
    const clients = Array.from({ length: count }, () => {
      const client = new ApiClientClass();
      client.setGateway({ host: '127.0.0.1', protocol: 'http', port, path_params_login: '', path_params_api: '' });
      return client;
    });
    prepared = { clients, clientId: String(message['clientId']), clientSecret: String(message['clientSecret']) };
    toRunner({ type: 'ready' });
  } else if (message.type === 'fire') {
    if (!prepared) throw new Error('fire before prepare');
    const { clients, clientId, clientSecret } = prepared;
    const histogram = latencyHistogram();
    const outcomes: Record<string, number> = {};
    const started = performance.now();
    await Promise.all(clients.map(async (client) => {
      const t0 = performance.now();
      let key: string;
      try {
        const auth = await client.loginClientCredentialsGrant(clientId, clientSecret);
        key = typeof auth.accessToken === 'string' ? 'ok' : 'no-token';
      } catch (err) {
        key = `failed-${statusOf(err)}`;
      }
      recordMs(histogram, performance.now() - t0);
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }));
    toRunner({
      type: 'result',
      result: { instances: clients.length, wallMs: Math.round(performance.now() - started), outcomes, latency: summarize(histogram), histogram: encodeLatencies(histogram) },
    });
  }
});
toRunner({ type: 'started' });

/** The HTTP status of an SDK rejection, whatever shape this SDK version gives it. */
function statusOf(err: unknown): string {
  const e = err as { status?: unknown; response?: { status?: unknown } } | null;
  const status = e?.status ?? e?.response?.status;
  return typeof status === 'number' ? String(status) : 'network';
}
