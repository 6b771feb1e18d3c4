import type { BrokerLease } from '@gtb/client';
import type { Logger } from '@gtb/logger';
import type { Connection } from './channel-connector.js';
import type { TimingConfig } from './config.js';

export interface ChannelExpiryDeps {
  timing: Pick<TimingConfig, 'channelExpiryMarginMs' | 'tokenExpiryMarginMs'>;
  now: () => number;
  logger: Logger;
  signal: AbortSignal;
  /** True while `conn` is the stream's socket in charge: timers of a replaced socket do nothing. */
  inCharge(conn: Connection): boolean;
  roll(trigger: string): void;
  /** Renews the lease now; a new token there rolls the stream over by itself. */
  renewNow(): Promise<BrokerLease>;
}

/** The timers that replace a socket before its channel or its token runs out. */
export interface ChannelExpiry {
  /** Arms the timers of a socket just put in charge. */
  watch(conn: Connection): void;
  clear(): void;
}

/** No timer shorter than this, so that a channel or token at its very end cannot spin. */
const MIN_TIMER_MS = 250;

export function createChannelExpiry(deps: ChannelExpiryDeps): ChannelExpiry {
  const { timing, now, signal, inCharge } = deps;
  const log = deps.logger.child({ component: 'channel-expiry' });
  const timers = new Set<NodeJS.Timeout>();

  function later(ms: number, fn: () => void): void {
    const t = setTimeout(() => { timers.delete(t); fn(); }, Math.max(MIN_TIMER_MS, ms));
    t.unref();
    timers.add(t);
  }

  /** Asks the broker for a newer token before this one expires, and again while it hands out the same. */
  function checkToken(conn: Connection, delayMs: number): void {
    later(delayMs, () => {
      if (!inCharge(conn) || signal.aborted) return;
      void deps.renewNow().then((current) => {
        if (!inCharge(conn) || current.token.fingerprint !== conn.fingerprint) return;
        log.warn({ fingerprint: conn.fingerprint }, 'token expiring and the broker still hands out the same one; asking again');
        checkToken(conn, Math.max(1_000, (conn.tokenExpiresAt - now()) / 2));
      }, (err: unknown) => {
        log.warn({ err: (err as Error).message }, 'lease renewal before token expiry failed; retrying');
        checkToken(conn, 1_000);
      });
    });
  }

  return {
    watch(conn) {
      const { expiresAt } = conn.socket.channel;
      const t = now();
      // Half the remaining life as a floor, so that a margin longer than the life cannot spin.
      later(Math.max(expiresAt - timing.channelExpiryMarginMs - t, (expiresAt - t) / 2), () => {
        if (inCharge(conn)) deps.roll('channel_expiring');
      });
      checkToken(conn, Math.max(conn.tokenExpiresAt - timing.tokenExpiryMarginMs - t, (conn.tokenExpiresAt - t) / 2));
    },
    clear() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
