import { z } from 'zod';
import type { Keys, RedisClient } from '@gtb/redis';
import type { LifecycleFeed } from '../events/lifecycle-feed.js';

const fingerprint = z.string().regex(/^[0-9a-f]{12}$/);

/** One stream as one streamer replica reports it (services/streamer/src/state-reporter.ts writes it). */
const streamReportSchema = z.object({
  name: z.string(),
  profile: z.string(),
  mode: z.enum(['active-active', 'active-passive']),
  owner: z.boolean(),
  receiving: z.boolean(),
  failed: z.string().max(300).optional(),
  sockets: z.number().int().nonnegative(),
  channel: z.object({ fingerprint, openedAt: z.number().optional(), expiresAt: z.number().optional() }).nullable(),
  topics: z.number().int().nonnegative(),
  eventsPerSecond: z.number().nonnegative(),
  lagMs: z.number().nonnegative().nullable(),
  rollovers: z.record(z.string(), z.number().int().nonnegative()),
  gaps: z.number().int().nonnegative(),
  buffered: z.number().int().nonnegative(),
});

const reportSchema = z.object({
  instance: z.string().max(200),
  reportedAt: z.number(),
  intervalMs: z.number().int().positive(),
  streams: z.array(streamReportSchema).max(500),
});

export type StreamerReport = z.infer<typeof reportSchema>;

/** A replica is dead, not quiet, when it missed three heartbeats. */
const MISSED_HEARTBEATS = 3;

/**
 * The streams as the streamer replicas report them through Redis (one key per replica, rewritten
 * every few seconds with a TTL longer than the heartbeat, so a replica that stopped reporting shows
 * as dead for a while before it disappears), joined with what the lifecycle stream and the output
 * streams say: recent gaps with their bounds and the last event written.
 */
export function createStreamStates(options: { redis: RedisClient; keys: Keys; feed: LifecycleFeed; now: () => number }) {
  const { redis, keys, feed, now } = options;

  async function reports(): Promise<StreamerReport[]> {
    // The replicas list themselves (a bounded read); SCAN would have to walk every dedupe key.
    const members = await redis.zrevrange(keys.streamerStateIndex(), 0, 999);
    const names = members.map((m) => keys.streamerState(m));
    if (names.length === 0) return [];
    // One GET each: in a Cluster the keys live on different slots.
    const raws = await Promise.all(names.map((k) => redis.get(k)));
    // A replica that stopped without deleting its entry is forgotten once its key has expired.
    const gone = members.filter((_, i) => raws[i] === null);
    if (gone.length) await redis.zrem(keys.streamerStateIndex(), ...gone).catch(() => undefined);
    const out: StreamerReport[] = [];
    for (const raw of raws) {
      if (!raw) continue;
      try {
        const parsed = reportSchema.safeParse(JSON.parse(raw));
        if (parsed.success) out.push(parsed.data);
      } catch { /* not JSON: skipped */ }
    }
    return out.sort((a, b) => a.instance.localeCompare(b.instance));
  }

  return {
    async list() {
      const t = now();
      const all = await reports();
      const replicas = all.map((r) => ({
        instance: r.instance, reported_at: new Date(r.reportedAt).toISOString(), interval_ms: r.intervalMs,
        alive: t - r.reportedAt <= MISSED_HEARTBEATS * r.intervalMs,
      }));
      const names = [...new Set(all.flatMap((r) => r.streams.map((s) => s.name)))].sort();
      const recent = await feed.recent(200, { types: ['stream.gap', 'stream.rolled_over', 'stream.connected'], profiles: [], streams: names }, 2000);
      const streams = await Promise.all(names.map(async (name) => {
        const per = all.flatMap((r) => r.streams.filter((s) => s.name === name).map((s) => ({ r, s })));
        const alive = (r: StreamerReport) => t - r.reportedAt <= MISSED_HEARTBEATS * r.intervalMs;
        const owners = per.filter(({ r, s }) => s.owner && alive(r)).map(({ r }) => r.instance);
        const last = (await redis.xrevrange(keys.events(name), '+', '-', 'COUNT', 1)) as [string, string[]][];
        const lastId = last[0]?.[0];
        // When the replica does not say, a channel is as old as the newest event that connected it.
        const openedAt = (fp: string) => [...recent].reverse().find((e) => {
          const d = e.event.data as { channelFingerprint?: string; toChannelFingerprint?: string };
          return d.channelFingerprint === fp || d.toChannelFingerprint === fp;
        })?.event.time ?? null;
        const gaps = recent.filter((e) => e.event.type === 'stream.gap' && (e.event.data as { stream: string }).stream === name)
          .slice(-20).reverse().map((e) => {
            const d = e.event.data as { from: string; to: string; reason: string; lastSequence?: number };
            return { from: d.from, to: d.to, reason: d.reason, last_sequence: d.lastSequence ?? null, reported_by: e.event.source };
          });
        return {
          name,
          profile: per[0]!.s.profile,
          mode: per[0]!.s.mode,
          owners,
          last_event_at: lastId ? new Date(Number(lastId.split('-')[0])).toISOString() : null,
          gaps,
          replicas: per.map(({ r, s }) => ({
            instance: r.instance, alive: alive(r), owner: s.owner, receiving: s.receiving, failed: s.failed ?? null,
            sockets: s.sockets, channel_fingerprint: s.channel?.fingerprint ?? null,
            channel_opened_at: s.channel?.openedAt ? new Date(s.channel.openedAt).toISOString() : (s.channel ? openedAt(s.channel.fingerprint) : null),
            channel_expires_at: s.channel?.expiresAt ? new Date(s.channel.expiresAt).toISOString() : null,
            topics: s.topics, events_per_second: s.eventsPerSecond, lag_ms: s.lagMs, rollovers: s.rollovers, gaps_total: s.gaps, buffered: s.buffered,
          })),
        };
      }));
      return { replicas, streams };
    },
  };
}

export type StreamStates = ReturnType<typeof createStreamStates>;
