import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { GtbError, isGtbError } from '@gtb/errors';
import { inSpan, tracerOf } from '@gtb/tracing';
import type { Identity, IdentityPort } from '../ports.js';

const tracer = tracerOf('gtb.broker');

export interface AuthGuardOptions {
  identity: Pick<IdentityPort, 'verify' | 'cached'>;
  /** Failed authentications a client address may have in a minute before it is refused unverified. */
  failuresPerAddress: number;
  /** Failed authentications one token (by hash) may have in a minute, whatever the address. */
  failuresPerToken: number;
  /** Counts a failure or a refusal by reason (`gtb_auth_failures_total{reason}`). */
  onFailure: (reason: string) => void;
}

export interface AuthGuard {
  /**
   * Verifies the caller's IdP token, unless the caller's address or the token itself failed too
   * often in the last minute: then it refuses with 429 before any signature check or IdP call.
   * A failure is counted against both. A token this replica has already verified (and still
   * caches) is never refused, so failures from other callers behind the same address cannot lock
   * out a caller that has authenticated.
   */
  verify(req: Request, token: string): Promise<Identity>;
  /** Counts a failure that happened before there was a token to verify (a malformed header). */
  failed(req: Request, err: unknown): Promise<void>;
}

/**
 * The limit on failed authentications, ahead of the per-caller rate limit (which needs a verified
 * identity, so it cannot stop a flood of bad tokens). Counted in this replica's memory, with
 * rate-limiter-flexible: a flood of junk costs no Redis round trip, and the bound is per replica
 * (N replicas allow N times the figure cluster-wide). Only failures count, so a busy caller with a
 * good token is never refused by it.
 */
export function createAuthGuard(options: AuthGuardOptions): AuthGuard {
  const byAddress = new RateLimiterMemory({ points: positive('failuresPerAddress', options.failuresPerAddress), duration: 60 });
  const byToken = new RateLimiterMemory({ points: positive('failuresPerToken', options.failuresPerToken), duration: 60 });
  const addressOf = (req: Request) => `ip:${req.ip ?? 'unknown'}`;
  const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

  async function refuseIfBlocked(limiter: RateLimiterMemory, key: string, limit: number): Promise<void> {
    const state = await limiter.get(key);
    if (state && state.consumedPoints >= limit) {
      options.onFailure('too_many_failures');
      throw new GtbError('ERR_RATE_LIMITED', 'too many failed authentications; retry later', { retryAfter: Math.max(1, Math.ceil(state.msBeforeNext / 1000)) });
    }
  }

  async function record(keys: string[], err: unknown): Promise<void> {
    options.onFailure(reasonOf(err));
    await Promise.all(keys.map((key, i) => (i === 0 ? byAddress : byToken).penalty(key)));
  }

  return {
    verify(req, token) {
      // The span names the issuer and the principal kind, never the subject or the token.
      return inSpan(tracer, 'gtb.identity.verify', {}, async (span) => {
        const known = options.identity.cached(token);
        span.setAttribute('gtb.identity.cache_hit', known !== undefined);
        if (known) {
          span.setAttributes({ 'gtb.identity.issuer': known.issuer, 'gtb.identity.principal': known.principal });
          return known;
        }
        const address = addressOf(req);
        const tokenKey = hashOf(token);
        await refuseIfBlocked(byAddress, address, options.failuresPerAddress);
        await refuseIfBlocked(byToken, tokenKey, options.failuresPerToken);
        try {
          const identity = await options.identity.verify(token);
          span.setAttributes({ 'gtb.identity.issuer': identity.issuer, 'gtb.identity.principal': identity.principal });
          return identity;
        } catch (err) {
          if (isAuthFailure(err)) await record([address, tokenKey], err);
          throw err;
        }
      });
    },
    async failed(req, err) {
      await refuseIfBlocked(byAddress, addressOf(req), options.failuresPerAddress);
      if (isAuthFailure(err)) await record([addressOf(req)], err);
    },
  };
}

/** A rejection of the caller's token (401), as opposed to the broker being unable to check it (503). */
function isAuthFailure(err: unknown): boolean {
  return isGtbError(err) && err.status === 401;
}

/** The failure's reason label: the verifier's short reason where it gives one, else the error code. */
function reasonOf(err: unknown): string {
  if (!isGtbError(err)) return 'unknown';
  const reason = err.details?.['reason'];
  return typeof reason === 'string' && /^[a-z_]{1,32}$/.test(reason) ? reason : err.code.replace(/^ERR_/, '').toLowerCase();
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new GtbError('ERR_CONFIG_INVALID', `option ${name} must be a positive integer`);
  return value;
}
