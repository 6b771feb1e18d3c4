import type { Logger } from '@gtb/logger';
import type { EventPublisher } from '@gtb/events';
import { leaseEventData, type LeaseStore } from './lease-store.js';

/** Sweeps expired leases on a timer and publishes `lease.expired` for each (once cluster-wide). */
export function startLeaseSweeper(options: { leases: LeaseStore; profiles: readonly string[]; intervalMs: number; events: Pick<EventPublisher, 'tryPublish'>; logger: Logger; onExpired?: (profile: string) => void }) {
  const { leases, profiles, intervalMs, events, logger } = options;
  let running = false;
  const sweep = async () => {
    if (running) return; // a slow Redis must not stack sweeps
    running = true;
    try {
      for (const lease of await leases.sweep(profiles)) {
        logger.info({ leaseId: lease.id, profile: lease.profile, holder: lease.holder }, 'lease expired');
        options.onExpired?.(lease.profile);
        await events.tryPublish('lease.expired', lease.profile, leaseEventData(lease));
      }
    } catch (err) {
      logger.debug({ err: (err as Error).message }, 'lease sweep failed; retrying next tick');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
