import { GtbError } from '@gtb/errors';
import type { BrokerClient } from './broker-client.js';
import type { BrokerToken } from './broker-token.js';

/** What the Genesys JS SDK's `ApiClient` offers that we need (purecloud-platform-client-v2). */
export interface AccessTokenSink {
  setAccessToken(token: string): void;
}

export interface AttachOptions {
  /** A refresh failed; the SDK keeps its current token and the attachment retries with backoff. */
  onError?: (error: GtbError) => void;
  /** The SDK was given a new token (the first one included). */
  onToken?: (token: BrokerToken) => void;
  /** Asks the broker at least this often, so that a rotation reaches the SDK soon (default 60 000 ms). */
  checkEveryMs?: number;
  /** First retry delay after a failure, doubled up to `maxRetryMs` (defaults 1000 and 30 000). */
  retryMs?: number;
  maxRetryMs?: number;
  now?: () => number;
}

export interface SdkAttachment {
  /** Settles when the SDK has its first token (rejects if the first attempt failed; retries go on). */
  readonly ready: Promise<BrokerToken>;
  /** Stops refreshing; the SDK keeps the token it has. */
  stop(): void;
}

/**
 * Keeps a Genesys SDK `ApiClient` supplied with the broker's token for `profile`: set now, then
 * again at each refresh point and whenever the broker's token changes (rotation), checked at least
 * every `checkEveryMs`. For an app that used `loginClientCredentialsGrant`, that call is replaced by this one.
 */
export function attachToGenesysSdk(apiClient: AccessTokenSink, brokerClient: BrokerClient, profile: string, options: AttachOptions = {}): SdkAttachment {
  if (!apiClient || typeof apiClient.setAccessToken !== 'function') throw new GtbError('ERR_CONFIG_INVALID', 'apiClient must have setAccessToken (a purecloud-platform-client-v2 ApiClient)');
  if (!brokerClient || typeof brokerClient.getToken !== 'function') throw new GtbError('ERR_CONFIG_INVALID', 'brokerClient must come from createBrokerClient');
  const { checkEveryMs = 60_000, retryMs = 1000, maxRetryMs = 30_000, now = Date.now } = options;
  for (const [name, v] of Object.entries({ checkEveryMs, retryMs, maxRetryMs })) {
    if (!Number.isFinite(v) || v <= 0) throw new GtbError('ERR_CONFIG_INVALID', `option "${name}" must be a positive number`);
  }
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: string | undefined;
  let failures = 0;
  let settle: { resolve: (t: BrokerToken) => void; reject: (e: unknown) => void } | undefined;
  const ready = new Promise<BrokerToken>((resolve, reject) => { settle = { resolve, reject }; });
  // Nobody may await `ready`; a first failure must not become an unhandled rejection.
  ready.catch(() => undefined);

  function schedule(delayMs: number): void {
    if (stopped) return;
    // unref: refreshing a token is no reason to keep an otherwise finished process alive.
    timer = setTimeout(() => void tick(), Math.max(0, delayMs)).unref();
  }

  async function tick(): Promise<void> {
    timer = undefined;
    try {
      // Every scheduled check asks the broker: that is how a rotation is noticed.
      const token = await brokerClient.getToken(profile, { forceRefresh: current !== undefined });
      if (stopped) return;
      failures = 0;
      if (token.fingerprint !== current) {
        apiClient.setAccessToken(token.accessToken);
        current = token.fingerprint;
        options.onToken?.(token);
      }
      settle?.resolve(token);
      settle = undefined;
      const refreshAt = brokerClient.refreshAt(profile) ?? now() + checkEveryMs;
      schedule(Math.max(1000, Math.min(refreshAt - now(), checkEveryMs)));
    } catch (err) {
      if (stopped) return;
      const error = err instanceof GtbError ? err : new GtbError('ERR_INTERNAL', 'token refresh failed', { cause: err });
      settle?.reject(error);
      settle = undefined;
      try {
        options.onError?.(error);
      } catch {
        // The listener's own failure must not stop the refreshing.
      }
      // Honour the broker's Retry-After (503 while Genesys throttles) when it asks for longer.
      const backoff = Math.min(maxRetryMs, retryMs * 2 ** Math.min(failures++, 16));
      schedule(Math.max(backoff, (error.retryAfter ?? 0) * 1000));
    }
  }

  void tick();
  return {
    ready,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
