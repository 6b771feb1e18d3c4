import { GtbError, isErrorCode } from '@gtb/errors';
import type { FetchLike } from '@gtb/genesys';
import { fetchTrusting } from './ca-fetch.js';

/** A lease and the token it carries (`POST /v1/leases`, `…/renew`). */
export interface Lease {
  leaseId: string;
  leaseExpiresAt: number;
  renewAfter: number;
  /** Never logged: log `fingerprint`. */
  accessToken: string;
  expiresAt: number;
  apiBaseUrl: string;
  fingerprint: string;
}

/** Source of the streamer's own IdP token; `force` drops a cached one the broker refused. */
export type IdpTokenSource = (force?: boolean) => Promise<string>;

export interface BrokerClientOptions {
  brokerUrl: string;
  idpToken: IdpTokenSource;
  fetch?: FetchLike;
  /** PEM CA to trust for an https broker (`brokerCa`); ignored when `fetch` is given. */
  ca?: string | undefined;
  timeoutMs?: number;
}

/** The broker's lease API as the streamer uses it. */
export interface BrokerClient {
  grant(profile: string, holder: string, ttlSeconds: number): Promise<Lease>;
  renew(leaseId: string): Promise<Lease>;
  release(leaseId: string): Promise<void>;
}

/** Builds the lease client; a 401 refreshes the IdP token once and retries. */
export function createBrokerClient(options: BrokerClientOptions): BrokerClient {
  const base = options.brokerUrl.replace(/\/+$/, '');
  const fetchFn = options.fetch ?? (options.ca ? fetchTrusting(options.ca) : globalThis.fetch);
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    for (let attempt = 0; ; attempt++) {
      const token = await options.idpToken(attempt > 0);
      let res: Response;
      let text: string;
      try {
        res = await fetchFn(`${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await res.text();
      } catch (err) {
        throw new GtbError('ERR_BROKER_UNREACHABLE', `broker ${method} ${path.replace(/[0-9a-f-]{36}/, '{id}')} failed (${(err as Error).name})`, { cause: err });
      }
      if (res.status === 401 && attempt === 0) continue;
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, json };
    }
  }

  function fail(what: string, status: number, json: unknown): GtbError {
    const code = (json as { code?: unknown } | undefined)?.code;
    if (status === 404 && what !== 'grant') return new GtbError('ERR_LEASE_LOST', `lease ${what}: the broker no longer knows the lease`);
    if (isErrorCode(code)) return new GtbError(code, `lease ${what}: broker answered ${status} ${code}`, { details: { brokerStatus: status } });
    return new GtbError('ERR_BROKER_RESPONSE_INVALID', `lease ${what}: broker answered ${status}`, { details: { brokerStatus: status } });
  }

  function toLease(json: unknown, what: string): Lease {
    const b = (json ?? {}) as Record<string, unknown>;
    const lease = {
      leaseId: b.lease_id,
      leaseExpiresAt: typeof b.lease_expires_at === 'string' ? Date.parse(b.lease_expires_at) : Number.NaN,
      renewAfter: typeof b.renew_after === 'string' ? Date.parse(b.renew_after) : Number.NaN,
      accessToken: b.access_token,
      expiresAt: typeof b.expires_at === 'string' ? Date.parse(b.expires_at) : Number.NaN,
      apiBaseUrl: b.api_base_url,
      fingerprint: b.fingerprint,
    };
    if (typeof lease.leaseId !== 'string' || typeof lease.accessToken !== 'string' || typeof lease.apiBaseUrl !== 'string'
      || typeof lease.fingerprint !== 'string' || [lease.leaseExpiresAt, lease.renewAfter, lease.expiresAt].some(Number.isNaN)) {
      throw new GtbError('ERR_BROKER_RESPONSE_INVALID', `lease ${what}: the broker's answer lacks lease or token fields`);
    }
    return lease as Lease;
  }

  return {
    async grant(profile, holder, ttlSeconds) {
      const { status, json } = await call('POST', '/v1/leases', { profile, holder, ttl_seconds: ttlSeconds });
      if (status !== 201 && status !== 200) throw fail('grant', status, json);
      return toLease(json, 'grant');
    },
    async renew(leaseId) {
      const { status, json } = await call('POST', `/v1/leases/${encodeURIComponent(leaseId)}/renew`);
      if (status !== 200) throw fail('renew', status, json);
      return toLease(json, 'renew');
    },
    async release(leaseId) {
      const { status, json } = await call('DELETE', `/v1/leases/${encodeURIComponent(leaseId)}`);
      if (status !== 204 && status !== 200 && status !== 404) throw fail('release', status, json);
    },
  };
}
