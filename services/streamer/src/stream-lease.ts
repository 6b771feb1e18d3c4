import { createLeaseHelper, type BrokerClient, type LeaseHelper } from '@gtb/client';
import type { Logger } from '@gtb/logger';
import { inSpan, tracerOf } from '@gtb/tracing';

export interface StreamLeaseOptions {
  broker: BrokerClient;
  profile: string;
  holder: string;
  ttlSeconds: number;
  now: () => number;
  random: () => number;
  logger: Logger;
  /** The broker handed out a different token than before (rotation, refresh-ahead). */
  onTokenChanged(): void;
}

/**
 * The lease on a stream's profile token: `@gtb/client`'s lease helper (renewed at the broker's
 * `renew_after`, acquired anew when lost), with the streamer's log lines. Resolves once the first
 * lease is held; rejects, holding nothing, when that fails.
 */
export async function startStreamLease(options: StreamLeaseOptions): Promise<LeaseHelper> {
  const { profile } = options;
  const log = options.logger.child({ component: 'lease', profile });
  const helper = createLeaseHelper({
    brokerClient: options.broker, profile, holder: options.holder, ttlSeconds: options.ttlSeconds,
    now: options.now, random: options.random, retryMs: 1_000,
    onToken(token, { rotated }) {
      if (!rotated) return;
      log.info({ fingerprint: token.fingerprint }, 'broker handed out a new token');
      options.onTokenChanged();
    },
    onLost: (err) => log.warn({ err: err.message }, 'lease lost; asking for a new one'),
    onError: (err) => log.warn({ err: err.message, code: err.code }, 'lease renewal failed; retrying'),
  });
  // The first lease as a span: the broker call below it continues into the broker's trace.
  const first = await inSpan(tracerOf('gtb.streamer'), 'gtb.streamer.lease', { root: true, attributes: { 'gtb.profile': profile } }, async (span) => {
    const lease = await helper.start();
    span.setAttribute('gtb.token.fingerprint', lease.token.fingerprint);
    return lease;
  });
  log.info({ leaseId: first.leaseId, fingerprint: first.token.fingerprint }, 'lease granted');
  return helper;
}
