import { Router } from 'express';
import { OBSERVATION_METRICS, observationResult, type ObservationMetric } from '../model/observations.js';
import type { SandboxState } from '../state.js';
import { readJson } from './body.js';
import { GenesysError } from './genesys-error.js';

interface Predicate {
  dimension?: unknown;
  value?: unknown;
}

const bad = (why: string): never => {
  throw new GenesysError(400, 'bad.request', why);
};

/**
 * `POST /analytics/queues/observations/query` (`QueueObservationQuery` in,
 * `QueueObservationQueryResponse` out) over the queues' conversations in progress: `oWaiting`
 * and `oInteracting`, with `detailMetrics` listing each conversation. The filter's `queueId`
 * predicates (top level or in clauses) pick the queues, one result each; a `mediaType`
 * predicate adds it to the group (the sandbox's traffic is all voice).
 */
export function observationsRouter(state: SandboxState): Router {
  const router = Router();
  router.post('/analytics/queues/observations/query', (req, res) => {
    const body = readJson(req);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) bad('The request body must be a QueueObservationQuery object.');
    const query = body as { filter?: unknown; metrics?: unknown; detailMetrics?: unknown };
    const metrics = metricList(query.metrics, 'metrics') ?? [...OBSERVATION_METRICS];
    const detail = metricList(query.detailMetrics, 'detailMetrics') ?? [];
    const filter = query.filter as { type?: unknown; predicates?: unknown; clauses?: unknown } | undefined;
    if (filter === null || typeof filter !== 'object' || (filter.type !== 'and' && filter.type !== 'or')) bad('filter with type "and" or "or" is required.');
    const predicates: Predicate[] = [...asList(filter!.predicates, 'filter.predicates')];
    for (const clause of asList(filter!.clauses, 'filter.clauses')) {
      predicates.push(...asList((clause as { predicates?: unknown } | null)?.predicates, 'clause.predicates'));
    }
    const queueIds: string[] = [];
    let mediaType: string | undefined;
    for (const p of predicates) {
      if (p === null || typeof p !== 'object' || typeof p.value !== 'string') bad('each predicate needs a dimension and a string value.');
      if (p.dimension === 'queueId') queueIds.push(p.value as string);
      else if (p.dimension === 'mediaType') mediaType = p.value as string;
      else bad(`The sandbox filters on queueId and mediaType only, not ${String(p.dimension).slice(0, 50)}.`);
    }
    if (queueIds.length === 0) bad('The filter must name at least one queueId.');
    if (queueIds.length > 100) bad('At most 100 queues may be queried at once.');
    res.json({ results: [...new Set(queueIds)].map((id) => observationResult(state.world, id, metrics, detail, mediaType)) });
  });
  return router;
}

function metricList(value: unknown, name: string): ObservationMetric[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) bad(`${name} must be a list of metric names.`);
  for (const m of value as unknown[]) {
    if (!OBSERVATION_METRICS.includes(m as ObservationMetric)) {
      bad(`The sandbox observes ${OBSERVATION_METRICS.join(' and ')} only; ${String(m).slice(0, 50)} is not modelled.`);
    }
  }
  return value as ObservationMetric[];
}

function asList(value: unknown, name: string): Predicate[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) bad(`${name} must be a list.`);
  return value as Predicate[];
}
