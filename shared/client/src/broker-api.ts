import { NAME_PATTERN } from '@gtb/errors';
import { BrokerClientError } from './broker-client-error.js';
import type { BrokerHttp } from './broker-http.js';
import { parseLeaseBody, type BrokerLease } from './broker-token.js';

/** A lease as the admin view lists it (no token). */
export interface LeaseInfo {
  leaseId: string;
  profile: string;
  holder: string;
  /** Epoch ms (broker clock). */
  leaseExpiresAt: number;
  /** Epoch ms (broker clock). */
  renewAfter: number;
}

/** What a rotation answers: the new token's fingerprint, never the token. */
export interface RotationResult {
  profile: string;
  fingerprint: string;
  /** Epoch ms (broker clock). */
  expiresAt: number;
}

/** Lease and admin calls of the broker's HTTP API. */
export interface BrokerApi {
  /** `POST /v1/leases`. */
  acquireLease(profile: string, holder: string, ttlSeconds?: number): Promise<BrokerLease>;
  /** `POST /v1/leases/{id}/renew`: the lease, extended, with the current (maybe rotated) token. */
  renewLease(leaseId: string): Promise<BrokerLease>;
  /** `DELETE /v1/leases/{id}`. */
  releaseLease(leaseId: string): Promise<void>;
  /** `GET /v1/leases` (admin). */
  listLeases(): Promise<LeaseInfo[]>;
  /** `POST /v1/profiles/{profile}/rotate` (admin). */
  rotate(profile: string): Promise<RotationResult>;
  /** `GET /v1/profiles` (admin): profile state as the broker reports it (never token values). */
  listProfiles(): Promise<Record<string, unknown>[]>;
}

const LEASE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The broker's profile name rule; checked here so a bad name never becomes a path. */
export const PROFILE_PATTERN = NAME_PATTERN;

/** Throws ERR_VALIDATION unless `profile` is a well-formed profile name. */
export function assertProfile(profile: unknown): asserts profile is string {
  if (typeof profile !== 'string' || !PROFILE_PATTERN.test(profile)) {
    throw new BrokerClientError('ERR_VALIDATION', `profile must match ${PROFILE_PATTERN}`);
  }
}

function assertLeaseId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !LEASE_ID.test(id)) throw new BrokerClientError('ERR_VALIDATION', 'lease id must be a UUID');
}

function invalid(what: string): BrokerClientError {
  return new BrokerClientError('ERR_BROKER_RESPONSE_INVALID', `broker answer has no valid ${what}`);
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(what);
  return value as Record<string, unknown>;
}

function isoMs(value: unknown, what: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw invalid(what);
  return ms;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw invalid(what);
  return value;
}

/** Builds the lease and admin calls over the shared request layer. */
export function createBrokerApi(http: BrokerHttp, now: () => number): BrokerApi {
  return {
    async acquireLease(profile, holder, ttlSeconds) {
      assertProfile(profile);
      if (typeof holder !== 'string' || !/^[\x20-\x7e]{1,200}$/.test(holder)) {
        throw new BrokerClientError('ERR_VALIDATION', 'holder must be 1 to 200 printable ASCII characters');
      }
      if (ttlSeconds !== undefined && (!Number.isInteger(ttlSeconds) || ttlSeconds < 1)) {
        throw new BrokerClientError('ERR_VALIDATION', 'ttlSeconds must be a positive integer');
      }
      const body = ttlSeconds === undefined ? { profile, holder } : { profile, holder, ttl_seconds: ttlSeconds };
      const answer = await http.request('POST', '/v1/leases', body);
      return parseLeaseBody(answer.body, now());
    },
    async renewLease(leaseId) {
      assertLeaseId(leaseId);
      const answer = await http.request('POST', `/v1/leases/${leaseId}/renew`);
      return parseLeaseBody(answer.body, now());
    },
    async releaseLease(leaseId) {
      assertLeaseId(leaseId);
      await http.request('DELETE', `/v1/leases/${leaseId}`);
    },
    async listLeases() {
      const answer = await http.request('GET', '/v1/leases');
      const list = record(answer.body, 'lease list')['leases'];
      if (!Array.isArray(list)) throw invalid('leases');
      return list.map((raw) => {
        const l = record(raw, 'lease');
        return {
          leaseId: str(l['lease_id'], 'lease_id'),
          profile: str(l['profile'], 'profile'),
          holder: str(l['holder'], 'holder'),
          leaseExpiresAt: isoMs(l['lease_expires_at'], 'lease_expires_at'),
          renewAfter: isoMs(l['renew_after'], 'renew_after'),
        };
      });
    },
    async rotate(profile) {
      assertProfile(profile);
      const answer = await http.request('POST', `/v1/profiles/${profile}/rotate`);
      const body = record(answer.body, 'rotation');
      return { profile: str(body['profile'], 'profile'), fingerprint: str(body['fingerprint'], 'fingerprint'), expiresAt: isoMs(body['expires_at'], 'expires_at') };
    },
    async listProfiles() {
      const answer = await http.request('GET', '/v1/profiles');
      const list = record(answer.body, 'profile list')['profiles'];
      if (!Array.isArray(list)) throw invalid('profiles');
      return list.map((p) => record(p, 'profile'));
    },
  };
}
