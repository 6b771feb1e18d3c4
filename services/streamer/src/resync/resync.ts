import { randomBytes } from 'node:crypto';
import type { GenesysApi } from '@gtb/genesys';
import type { Logger } from '@gtb/logger';
import type { ResyncConfig } from '../config.js';
import type { PendingEvent } from '../event-sink.js';
import type { Gap } from '../gap-reporter.js';
import type { StreamerMetrics } from '../metrics.js';
import { createConversationTracker } from './conversation-tracker.js';
import { createRateGate } from './rate-gate.js';
import { createSnapshotClient, type SnapshotClient } from './snapshot-client.js';
import { planResync, type ResyncPlan } from './topic-families.js';

/**
 * Heals a closed gap in the output itself (docs/architecture.md § Gaps, § Wire formats): a
 * `stream.gap` entry where the gap closed, listing the topics the consumer must backfill, then one
 * `stream.resync` entry per topic (per conversation for conversation topics) holding the topic's
 * current state from the REST API in the topic's `eventBody` shape. A consumer that applies entries
 * by topic is right again without code of its own.
 */
export interface Resyncer {
  /** Every event of the shard, before the sink: conversation topics' ids are remembered. */
  observe(event: PendingEvent): void;
  /** Topics with no (complete) snapshot: listed in every gap. */
  readonly backfill: readonly string[];
  /** A gap closed (published): write its entry and resync. Gaps are healed one after the other. */
  gapClosed(gap: Gap): void;
  /** Resyncs under way or queued. */
  pending(): number;
  stop(): Promise<void>;
}

export interface ResyncerOptions {
  topics: readonly string[];
  config: ResyncConfig;
  instanceId: string;
  /** The lease's current token and API host, read at each call (a rollover may change them). */
  api: () => { api: GenesysApi; token: string } | undefined;
  push(entry: PendingEvent): void;
  metrics: StreamerMetrics;
  logger: Logger;
  now: () => number;
}

interface Snapshot { topic: string; body: Record<string, unknown>; source: string; key?: string }

export function createResyncer(options: ResyncerOptions): Resyncer {
  const { config, now, metrics } = options;
  const log = options.logger.child({ component: 'resync' });
  const plan: ResyncPlan = planResync(options.topics);
  const tracker = createConversationTracker(config.maxTrackedConversations);
  const stopping = new AbortController();
  const gate = createRateGate({ perMinute: config.requestsPerMinute, concurrency: config.concurrency, now });
  const client: SnapshotClient = createSnapshotClient({
    api: () => {
      const current = options.api();
      if (!current) throw new Error('no token leased yet');
      return current;
    },
    gate, attempts: config.attempts, now, signal: stopping.signal,
  });
  const stream = (g: Gap) => g.stream;
  let chain: Promise<void> = Promise.resolve();
  let queued = 0;

  function entry(kind: 'stream.gap' | 'stream.resync', gapId: string, id: string, topic: string, event: unknown): PendingEvent {
    return { dedupeId: `${kind}:${gapId}:${id}`.slice(0, 400), topic, text: JSON.stringify(event), receivedAt: now(), kind, gapId };
  }

  function gapEntry(gap: Gap, gapId: string, backfill: readonly string[], suffix: string, extra: Record<string, unknown>): PendingEvent {
    return entry('stream.gap', gapId, suffix, 'stream.gap', {
      type: 'stream.gap', stream: stream(gap), gapId, ...(gap.shard === undefined ? {} : { shard: gap.shard }),
      from: new Date(gap.from).toISOString(), to: new Date(Math.max(gap.from, gap.to)).toISOString(),
      ...(gap.lastSequence === undefined ? {} : { lastSequence: gap.lastSequence }),
      ...(gap.lastEventId === undefined ? {} : { lastEventId: gap.lastEventId }),
      reason: gap.reason, backfillTopics: backfill, ...extra,
    });
  }

  /** Every snapshot of the shard's topics; the topics whose calls failed are returned for backfill. */
  async function collect(): Promise<{ snapshots: Snapshot[]; failed: string[] }> {
    const snapshots: Snapshot[] = [];
    const failed: string[] = [];
    const attempt = async (topics: string[], fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        if (stopping.signal.aborted) throw err;
        log.warn({ err: (err as Error).message, topics: topics.length }, 'snapshot failed: its topics need a backfill');
        failed.push(...topics);
      }
    };
    if (plan.presence.length > 0) {
      for (let i = 0; i < plan.presence.length; i += 50) {
        const ids = plan.presence.slice(i, i + 50);
        await attempt(ids.map((id) => `v2.users.${id}.presence`), async () => {
          const got = await client.presences(ids);
          for (const id of ids) {
            const body = got.get(id);
            if (body) snapshots.push({ topic: `v2.users.${id}.presence`, body, source: 'GET /api/v2/users/presences/purecloud/bulk' });
            else failed.push(`v2.users.${id}.presence`);
          }
        });
      }
    }
    await Promise.all(plan.routingStatus.map((id) => attempt([`v2.users.${id}.routingStatus`], async () => {
      snapshots.push({ topic: `v2.users.${id}.routingStatus`, body: await client.routingStatus(id), source: 'GET /api/v2/users/{userId}/routingstatus' });
    })));
    const queues = [...new Set([...plan.queueConversations, ...plan.queueObservations])];
    if (queues.length > 0) {
      const topicsOf = (ids: string[]) => ids.flatMap((id) => [
        ...(plan.queueConversations.includes(id) ? [`v2.routing.queues.${id}.conversations`] : []),
        ...(plan.queueObservations.includes(id) ? [`v2.analytics.queues.${id}.observations`] : []),
      ]);
      for (let i = 0; i < queues.length; i += 100) {
        const ids = queues.slice(i, i + 100);
        await attempt(topicsOf(ids), async () => {
          const got = await client.observations(ids);
          for (const id of ids) {
            const o = got.get(id);
            if (!o) { failed.push(...topicsOf([id])); continue; }
            if (plan.queueObservations.includes(id)) {
              snapshots.push({ topic: `v2.analytics.queues.${id}.observations`, body: o.body, source: 'POST /api/v2/analytics/queues/observations/query' });
            }
            if (plan.queueConversations.includes(id)) {
              const topic = `v2.routing.queues.${id}.conversations`;
              // In progress now, and those last seen in progress (they may have ended during the gap).
              const ids = [...new Set([...o.conversationIds, ...tracker.live(topic)])];
              await Promise.all(ids.map((cid) => attempt([topic], () => conversation(topic, cid, snapshots))));
            }
          }
        });
      }
    }
    for (const userId of plan.userConversations) {
      const topic = `v2.users.${userId}.conversations`;
      await Promise.all(tracker.live(topic).map((cid) => attempt([topic], () => conversation(topic, cid, snapshots))));
    }
    return { snapshots, failed: [...new Set(failed)] };
  }

  async function conversation(topic: string, cid: string, into: Snapshot[]): Promise<void> {
    const body = await client.conversation(cid);
    if (!body) {
      tracker.settle(topic, cid, true); // forgotten by Genesys: nothing to bring up to date
      return;
    }
    const participants = Array.isArray(body.participants) ? body.participants as { endTime?: unknown }[] : [];
    tracker.settle(topic, cid, participants.length > 0 && participants.every((p) => typeof p.endTime === 'string'));
    into.push({ topic, body, source: 'GET /api/v2/conversations/{conversationId}', key: cid });
  }

  async function heal(gap: Gap): Promise<void> {
    const gapId = gap.gapId ?? `${options.instanceId}:${randomBytes(4).toString('hex')}`;
    const resyncable = plan.presence.length + plan.routingStatus.length + plan.queueConversations.length + plan.queueObservations.length + plan.userConversations.length;
    options.push(gapEntry(gap, gapId, plan.backfill, 'opened', { resync: resyncable > 0 && config.enabled ? 'follows' : 'none' }));
    if (!config.enabled || resyncable === 0) return;
    const started = now();
    const { snapshots, failed } = await collect();
    const takenAt = new Date(now()).toISOString();
    for (const s of snapshots) {
      options.push(entry('stream.resync', gapId, s.key ? `${s.topic}:${s.key}` : s.topic, s.topic, {
        topicName: s.topic, version: '2', eventBody: s.body,
        metadata: { type: 'stream.resync', snapshot: true, gapId, source: s.source, takenAt },
      }));
    }
    metrics.resyncEntries.inc({ stream: gap.stream }, snapshots.length);
    if (failed.length > 0) {
      metrics.resyncFailures.inc({ stream: gap.stream }, failed.length);
      log.error({ gapId, failed: failed.length }, 'resync incomplete: topics listed for backfill in a second stream.gap entry');
      options.push(gapEntry(gap, gapId, failed, 'resync-failed', { resync: 'failed', reason: `resync failed for ${failed.length} topic(s)` }));
    }
    log.info({ gapId, snapshots: snapshots.length, failed: failed.length, tookMs: now() - started }, 'gap resynced from REST snapshots');
  }

  return {
    observe(event) {
      if (event.conversation) tracker.observe(event.topic, event.conversation);
    },
    backfill: plan.backfill,
    gapClosed(gap) {
      if (stopping.signal.aborted) {
        // Closed at shutdown: no snapshot now (the process is going); the entry still marks the gap.
        options.push(gapEntry(gap, gap.gapId ?? `${options.instanceId}:${randomBytes(4).toString('hex')}`, plan.backfill, 'opened', { resync: 'none' }));
        return;
      }
      queued += 1;
      chain = chain.then(() => heal(gap)).catch((err: unknown) => {
        if (!stopping.signal.aborted) log.error({ err: (err as Error).message }, 'resync failed');
      }).finally(() => { queued -= 1; });
    },
    pending: () => queued,
    async stop() {
      stopping.abort();
      await chain;
    },
  };
}
