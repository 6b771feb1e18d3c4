import { exponentialDelay, GtbError } from '@gtb/errors';
import type { BrokerClient } from './broker-client.js';
import type { BrokerToken } from './broker-token.js';

/** What the Genesys JS SDK's `ApiClient` offers that we need (purecloud-platform-client-v2). */
export interface AccessTokenSink {
  setAccessToken(token: string): void;
  /**
   * The SDK's one request method (`ApiClient.callApi`). When present, the attachment wraps it: a
   * call Genesys answers 401 (the token was revoked outside the broker) is reported to the broker,
   * which replaces the token, and retried once with the replacement.
   */
  callApi?: (...args: never[]) => Promise<unknown>;
}

export interface AttachOptions {
  /** A refresh failed; the SDK keeps its current token and the attachment retries with backoff. */
  onError?: (error: GtbError) => void;
  /** The SDK was given a new token (the first one included). */
  onToken?: (token: BrokerToken) => void;
  /** Report a Genesys 401 and retry the call once with the replacement (default true; needs `callApi`). */
  retryOnUnauthorized?: boolean;
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
  /**
   * Genesys rejected the SDK's token (401): reports it to the broker, sets the replacement and
   * resolves with it. Concurrent calls share one report. Done by itself for calls through `callApi`.
   */
  rejected(): Promise<BrokerToken>;
  /** Stops refreshing (and unwraps `callApi`); the SDK keeps the token it has. */
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
      schedule(Math.max(exponentialDelay(failures++, { baseMs: retryMs, maxMs: maxRetryMs }), (error.retryAfter ?? 0) * 1000));
    }
  }

  let reporting: Promise<BrokerToken> | undefined;
  function rejected(): Promise<BrokerToken> {
    const fp = current;
    if (fp === undefined) return ready;
    reporting ??= (async () => {
      try {
        const token = await brokerClient.reportRejected(profile, fp);
        if (!stopped && token.fingerprint !== current) {
          apiClient.setAccessToken(token.accessToken);
          current = token.fingerprint;
          options.onToken?.(token);
        }
        return token;
      } finally {
        reporting = undefined;
      }
    })();
    return reporting;
  }

  // The SDK's request method, wrapped so that a 401 costs one report and one retry, not an outage.
  const original = apiClient.callApi;
  if (options.retryOnUnauthorized !== false && typeof original === 'function') {
    const call = original.bind(apiClient) as (...args: unknown[]) => Promise<unknown>;
    apiClient.callApi = async (...args: never[]) => {
      const sentWith = current;
      try {
        return await call(...args);
      } catch (err) {
        // The SDK rejects with Genesys' error body ({status: 401, code, …}) or, with extended
        // responses, {status, body, …}: both carry the status.
        if (stopped || (err as { status?: unknown } | null)?.status !== 401 || sentWith === undefined) throw err;
        // Someone may have replaced it already (another call's report, a refresh): retry with that.
        if (current === sentWith) {
          try {
            await rejected();
          } catch {
            throw err; // the broker could not replace it: the caller sees Genesys' answer
          }
        }
        return call(...args);
      }
    };
  }

  void tick();
  return {
    ready,
    rejected,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (original && apiClient.callApi !== original) apiClient.callApi = original;
    },
  };
}
