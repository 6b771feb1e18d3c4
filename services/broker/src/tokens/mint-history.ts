import type { Keys, RedisClient } from '@gtb/redis';
import type { Logger } from '@gtb/logger';

/** One upstream mint as the console shows it: when, which replica, how long, how it ended. */
export interface MintRecord {
  at: number;
  instance: string;
  ms: number;
  outcome: string;
}

export interface MintSummary {
  last: MintRecord | null;
  /** Mints per hour over the last 24 h, oldest first (24 buckets, the last one ends now). */
  perHour: number[];
}

const DAY_MS = 24 * 3600_000;
/** A profile minting more often than this in a day is broken anyway; the set stays small. */
const MAX_KEPT = 5000;

/**
 * A day of upstream mints per profile, shared by every replica through one sorted set
 * (`keys.mints`), so that any replica can tell who minted last and how often. Written from the
 * token service's observer; a failed write only loses a console figure, never a mint.
 */
export function createMintHistory(options: { redis: RedisClient; keys: Keys; instanceId: string; logger: Logger; now?: () => number }) {
  const { redis, keys, instanceId, logger, now = Date.now } = options;
  return {
    record(profile: string, ms: number, outcome: string): void {
      const at = now();
      const entry: MintRecord = { at, instance: instanceId, ms: Math.round(ms), outcome };
      void redis.multi()
        .zadd(keys.mints(profile), at, JSON.stringify(entry))
        .zremrangebyscore(keys.mints(profile), '-inf', at - DAY_MS)
        .zremrangebyrank(keys.mints(profile), 0, -MAX_KEPT - 1)
        .pexpire(keys.mints(profile), DAY_MS)
        .exec()
        .catch((err: unknown) => logger.debug({ err: (err as Error).message, profile }, 'mint history not written'));
    },

    async summary(profile: string): Promise<MintSummary> {
      const t = now();
      const raw = await redis.zrangebyscore(keys.mints(profile), t - DAY_MS, '+inf');
      const perHour = new Array<number>(24).fill(0);
      let last: MintRecord | null = null;
      for (const item of raw) {
        let rec: MintRecord;
        try { rec = JSON.parse(item) as MintRecord; } catch { continue; }
        const bucket = 23 - Math.floor((t - rec.at) / 3600_000);
        if (bucket >= 0 && bucket < 24 && rec.outcome === 'ok') perHour[bucket]! += 1;
        if (!last || rec.at >= last.at) last = rec;
      }
      return { last, perHour };
    },
  };
}

export type MintHistory = ReturnType<typeof createMintHistory>;
