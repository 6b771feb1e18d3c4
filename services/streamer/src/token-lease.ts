import { isGtbError } from '@gtb/errors';
import type { Logger } from '@gtb/logger';
import type { BrokerClient, Lease } from './broker-client.js';

export interface TokenLeaseOptions {
  broker: BrokerClient;
  profile: string;
  holder: string;
  ttlSeconds: number;
  now: () => number;
  logger: Logger;
  /** The broker handed out a different token than before (rotation, refresh-ahead). */
  onTokenChanged(lease: Lease, previousFingerprint: string): void;
}

/** A broker lease kept alive at the broker's `renew_after`, re-granted when lost. */
export interface TokenLease {
  current(): Lease | undefined;
  /** Renews now (or grants when there is none) and returns the lease; one call in flight at a time. */
  refresh(): Promise<Lease>;
  /** Releases the lease and stops renewing. */
  close(): Promise<void>;
}

const RETRY_MS = 1_000;

/** Grants the first lease and keeps it renewed. */
export async function startTokenLease(options: TokenLeaseOptions): Promise<TokenLease> {
  const { broker, profile, holder, ttlSeconds, now, logger } = options;
  const log = logger.child({ component: 'lease', profile });
  let lease: Lease | undefined;
  let inFlight: Promise<Lease> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function schedule(delayMs: number): void {
    clearTimeout(timer);
    if (closed) return;
    timer = setTimeout(() => {
      refresh().catch((err: unknown) => {
        log.warn({ err: (err as Error).message, code: isGtbError(err) ? err.code : undefined }, 'lease renewal failed; retrying');
        schedule(RETRY_MS);
      });
    }, Math.max(50, delayMs));
    timer.unref();
  }

  async function doRefresh(): Promise<Lease> {
    let next: Lease;
    if (lease === undefined) {
      next = await broker.grant(profile, holder, ttlSeconds);
    } else {
      try {
        next = await broker.renew(lease.leaseId);
      } catch (err) {
        if (!isGtbError(err, 'ERR_LEASE_LOST')) throw err;
        log.warn({ leaseId: lease.leaseId }, 'lease lost; asking for a new one');
        next = await broker.grant(profile, holder, ttlSeconds);
      }
    }
    const previous = lease;
    lease = next;
    schedule(next.renewAfter - now());
    if (previous && previous.fingerprint !== next.fingerprint) {
      log.info({ fingerprint: next.fingerprint, previous: previous.fingerprint }, 'broker handed out a new token');
      options.onTokenChanged(next, previous.fingerprint);
    }
    return next;
  }

  function refresh(): Promise<Lease> {
    inFlight ??= doRefresh().finally(() => { inFlight = undefined; });
    return inFlight;
  }

  await refresh();
  log.info({ leaseId: lease!.leaseId, fingerprint: lease!.fingerprint }, 'lease granted');
  return {
    current: () => lease,
    refresh,
    async close() {
      closed = true;
      clearTimeout(timer);
      if (lease) await broker.release(lease.leaseId).catch((err: unknown) => log.debug({ err: (err as Error).message }, 'lease release failed'));
    },
  };
}
