import type { RedisClient } from '@gtb/redis';

/**
 * Key names of the gap bookkeeping, with the stream's hash tag like every other stream key
 * (`gtb:events:{<stream>}`), built here rather than in @gtb/redis because only the streamer reads them.
 */
export function gapKeys(prefix: string, stream: string, shard?: number) {
  // A sharded stream keeps each shard's apart: one shard's reception must never cover another's drop.
  const suffix = shard === undefined ? '' : `:${shard}`;
  return {
    /** Sorted set: member `<instance>|<since ms>`, score = the last frame heard in that interval (ms). */
    coverage: `${prefix}:coverage:{${stream}}${suffix}`,
    /** Hash: gap id → the open gap as JSON (`OpenGapRecord`). */
    openGaps: `${prefix}:open-gaps:{${stream}}${suffix}`,
  };
}

/** Epoch-ms span, both ends included. */
export type Span = [from: number, to: number];

/**
 * Where each replica received a stream: per replica, intervals of continuous reception
 * `[since, lastHeard]`, kept in Redis for `retentionMs`. A replica's own drop is a gap only where no
 * other replica's interval covers it (active-active).
 */
export interface ReplicaCoverage {
  /** Records (or extends) this replica's interval that started at `since`. */
  record(since: number, lastHeard: number): Promise<void>;
  /** True when a replica other than `exclude` heard the stream at or after `at`. */
  othersHeardSince(at: number, exclude: string): Promise<boolean>;
  /**
   * What of `[from, to]` no replica other than `exclude` received (sorted, disjoint). An interval
   * covers only up to `inFlightMs` before its last frame: that frame (a heartbeat, a pong, a
   * `token_revoked` notice sent after the channel stopped delivering) proves nothing about events
   * generated while it was on its way, so two replicas cut at once must not cover each other's loss.
   */
  uncovered(from: number, to: number, exclude: string, inFlightMs?: number): Promise<Span[]>;
}

export function createReplicaCoverage(options: { redis: RedisClient; key: string; instanceId: string; retentionMs: number; now: () => number }): ReplicaCoverage {
  const { redis, key, instanceId, retentionMs, now } = options;

  async function intervals(after: number): Promise<{ instance: string; since: number; until: number }[]> {
    const raw = await redis.zrangebyscore(key, after, '+inf', 'WITHSCORES');
    const out: { instance: string; since: number; until: number }[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const member = raw[i]!;
      const sep = member.lastIndexOf('|');
      const since = Number(member.slice(sep + 1));
      const until = Number(raw[i + 1]);
      if (sep > 0 && Number.isFinite(since) && Number.isFinite(until)) out.push({ instance: member.slice(0, sep), since, until });
    }
    return out;
  }

  return {
    async record(since, lastHeard) {
      await redis.multi()
        .zadd(key, lastHeard, `${instanceId}|${since}`)
        .zremrangebyscore(key, '-inf', now() - retentionMs)
        .pexpire(key, retentionMs)
        .exec();
    },
    async othersHeardSince(at, exclude) {
      return (await intervals(at)).some((r) => r.instance !== exclude);
    },
    async uncovered(from, to, exclude, inFlightMs = 0) {
      const covering = (await intervals(from + inFlightMs))
        .map((r) => ({ ...r, until: r.until - inFlightMs }))
        .filter((r) => r.instance !== exclude && r.since <= to && r.until > r.since).sort((a, b) => a.since - b.since);
      const gaps: Span[] = [];
      let cursor = from;
      for (const r of covering) {
        if (r.since > cursor) gaps.push([cursor, Math.min(r.since, to)]);
        cursor = Math.max(cursor, r.until);
        if (cursor >= to) break;
      }
      if (cursor < to) gaps.push([cursor, to]);
      return gaps.filter(([a, b]) => b > a || (a === from && b === to));
    },
  };
}
