import { queueOf, type ConversationModel, type World } from './world.js';

/** The queue observation metrics the sandbox models, from the conversations in progress on each queue. */
export const OBSERVATION_METRICS = ['oWaiting', 'oInteracting'] as const;
export type ObservationMetric = (typeof OBSERVATION_METRICS)[number];

function conversationsIn(world: World, queueId: string, metric: ObservationMetric): ConversationModel[] {
  const phase = metric === 'oWaiting' ? 'waiting' : 'interacting';
  const queue = world.queues.get(queueId);
  if (!queue) return [];
  return queue.live.map((id) => world.conversations.get(id)!).filter((c) => c.phase === phase);
}

/**
 * `eventBody` of `v2.analytics.queues.{id}.observations`, in the shape seen on the wire
 * (`{group, data: [{interval, metrics: [{metric, stats}]}]}`; the SDKs type it loosely). The
 * event time is the start of `data[0].interval` (an instant: both ends are equal).
 */
export function observationEventBody(world: World, queueId: string, now: number): Record<string, unknown> {
  queueOf(world, queueId);
  const at = new Date(now).toISOString();
  return {
    group: { queueId, mediaType: 'voice' },
    data: [{ interval: `${at}/${at}`, metrics: OBSERVATION_METRICS.map((metric) => ({ metric, stats: { count: conversationsIn(world, queueId, metric).length } })) }],
  };
}

/** One result of `POST /api/v2/analytics/queues/observations/query`: the SDK's `QueueObservationDataContainer`. */
export function observationResult(world: World, queueId: string, metrics: readonly ObservationMetric[], detailMetrics: readonly ObservationMetric[], mediaType: string | undefined): Record<string, unknown> {
  return {
    group: mediaType === undefined ? { queueId } : { queueId, mediaType },
    data: metrics.map((metric) => {
      const conversations = mediaType === undefined || mediaType === 'voice' ? conversationsIn(world, queueId, metric) : [];
      const entry: Record<string, unknown> = { metric, stats: { count: conversations.length } };
      if (detailMetrics.includes(metric)) {
        entry.truncated = false;
        entry.observations = conversations.map((c) => {
          const customer = c.participants.find((p) => p.purpose === 'customer');
          const agent = c.participants.find((p) => p.purpose === 'agent');
          const since = metric === 'oWaiting' ? c.startAt : (agent?.connectedAt ?? c.startAt);
          return {
            observationDate: new Date(since).toISOString(),
            conversationId: c.id,
            sessionId: customer?.call.id,
            routingPriority: 0,
            ...(agent?.userId === undefined || metric === 'oWaiting' ? {} : { userId: agent.userId }),
            direction: 'inbound',
            addressFrom: customer?.address,
            addressTo: 'tel:+13175550199',
          };
        });
      }
      return entry;
    }),
  };
}
