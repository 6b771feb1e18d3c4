import type { Keys, RedisClient } from '@gtb/redis';
import type { Logger } from '@gtb/logger';
import type { StreamerConfig } from './config.js';
import type { StreamerMetrics } from './metrics.js';

/** What a runner's status says about one stream (the fields the report needs; others are ignored). */
interface StatusLike {
  stream: string;
  receiving: boolean;
  channelFingerprint: string | undefined;
  failed: string | undefined;
  owner: boolean;
  buffered: number;
  /** Reported when the worker knows them (epoch ms). */
  channelOpenedAt?: number | undefined;
  channelExpiresAt?: number | undefined;
}

export interface StateReporterOptions {
  instanceId: string;
  config: Pick<StreamerConfig, 'ha' | 'streams'>;
  redis: RedisClient;
  keys: Keys;
  metrics: StreamerMetrics;
  logger: Logger;
  status: () => StatusLike[];
  now?: () => number;
  /** The heartbeat: how often the report is rewritten (default 2 s). */
  intervalMs?: number;
}

type Values = { value: number; labels: Record<string, string | number | undefined> }[];
const sumBy = (values: Values, stream: string) => values.filter((v) => v.labels['stream'] === stream).reduce((a, v) => a + v.value, 0);

/**
 * Each replica writes what it knows of its streams to `keys.streamerState(instance)` every
 * `intervalMs`, with a TTL of 30 heartbeats, and lists itself in `keys.streamerStateIndex()`: the broker's `/v1/streams` (and the operator console)
 * reads them all, tells a dead replica (no heartbeat for three intervals) from a quiet one (a
 * heartbeat with 0 events/s), and forgets it when the key expires. Rates are deltas of the
 * replica's own counters between two heartbeats. Channels by fingerprint only, as everywhere
 * outside this process. A graceful stop deletes the key.
 */
export function startStateReporter(options: StateReporterOptions): { stop(): Promise<void> } {
  const { instanceId, config, redis, keys, metrics, logger, status, now = Date.now, intervalMs = 2000 } = options;
  const member = instanceId.replace(/[^A-Za-z0-9_.:-]/g, '-');
  const key = keys.streamerState(member);
  let previous: { at: number; out: Values; lagSum: Values; lagCount: Values } | undefined;
  let stopped = false;
  let writing: Promise<unknown> = Promise.resolve();

  async function report(): Promise<void> {
    const at = now();
    const [out, lag, rollovers, gaps, sockets] = await Promise.all([
      metrics.eventsOut.get(), metrics.lag.get(), metrics.rollovers.get(), metrics.gaps.get(), metrics.sockets.get(),
    ]);
    const lagSum = lag.values.filter((v) => v.metricName?.endsWith('_sum')) as Values;
    const lagCount = lag.values.filter((v) => v.metricName?.endsWith('_count')) as Values;
    const statuses = status();
    const streams = config.streams.map((s) => {
      const st = statuses.find((x) => x.stream === s.name);
      const dt = previous ? (at - previous.at) / 1000 : 0;
      const delta = (now_: Values, before: Values | undefined) => sumBy(now_, s.name) - (before ? sumBy(before, s.name) : 0);
      const eps = previous && dt > 0 ? Math.max(0, delta(out.values as Values, previous.out) / dt) : 0;
      const lagEvents = previous ? delta(lagCount, previous.lagCount) : 0;
      return {
        name: s.name,
        profile: s.profile,
        mode: config.ha,
        owner: st?.owner ?? false,
        receiving: st?.receiving ?? false,
        ...(st?.failed ? { failed: st.failed.slice(0, 300) } : {}),
        sockets: sumBy(sockets.values as Values, s.name),
        channel: st?.channelFingerprint
          ? { fingerprint: st.channelFingerprint, ...(st.channelOpenedAt ? { openedAt: st.channelOpenedAt } : {}), ...(st.channelExpiresAt ? { expiresAt: st.channelExpiresAt } : {}) }
          : null,
        topics: s.topics.length,
        eventsPerSecond: Math.round(eps * 10) / 10,
        lagMs: lagEvents > 0 ? Math.round((delta(lagSum, previous?.lagSum) / lagEvents) * 10_000) / 10 : null,
        rollovers: Object.fromEntries((rollovers.values as Values).filter((v) => v.labels['stream'] === s.name).map((v) => [String(v.labels['trigger']), v.value])),
        gaps: sumBy(gaps.values as Values, s.name),
        buffered: st?.buffered ?? 0,
      };
    });
    previous = { at, out: out.values as Values, lagSum, lagCount };
    await redis.set(key, JSON.stringify({ instance: instanceId, reportedAt: at, intervalMs, streams }), 'PX', intervalMs * 30);
    // Listed apart from the key (two commands: in a Cluster they live on different slots); a reader drops a member whose key expired.
    await redis.zadd(keys.streamerStateIndex(), at, member);
  }

  const tick = () => {
    writing = report().catch((err: unknown) => logger.debug({ err: (err as Error).message }, 'streamer state not reported'));
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await writing;
      await redis.del(key).catch(() => undefined);
      await redis.zrem(keys.streamerStateIndex(), member).catch(() => undefined);
    },
  };
}
