import { Router, type Request, type Response } from 'express';
import { fingerprint } from '@gtb/logger';
import { ownChannel } from '../channels.js';
import type { Channel, SandboxState } from '../state.js';
import { isTopicAllowed, isValidTopic } from '../topics.js';
import { authOf } from './api-auth.js';
import { readJson } from './body.js';
import { GenesysError } from './genesys-error.js';

interface TopicEntity {
  id: string;
  state: 'Permitted' | 'Rejected';
  rejectionReason?: string;
  missingPermissions?: string[];
  selfUri: string;
}

const PATH = '/notifications/channels/:channelId/subscriptions';

/**
 * Subscriptions of a channel: GET lists, PUT replaces, POST adds, DELETE removes all. One
 * forbidden topic makes the whole request 403 unless `ignoreErrors=true`; more than
 * `maxTopicsPerChannel` (1,000) topics on the channel is a 400 and changes nothing; bad topic
 * syntax is a 400. (Re)subscribing extends the channel when configured.
 */
export function subscriptionsRouter(state: SandboxState): Router {
  const router = Router();
  router.get(PATH, (req, res) => {
    const channel = channelOr404(state, req, res);
    res.json({ entities: [...channel.topics].map((t) => entity(channel, t)) });
  });
  router.put(PATH, (req, res) => change(state, req, res, 'replace'));
  router.post(PATH, (req, res) => change(state, req, res, 'add'));
  router.delete(PATH, (req, res) => {
    const channel = channelOr404(state, req, res);
    channel.topics.clear();
    res.status(200).end();
  });
  return router;
}

function change(state: SandboxState, req: Request, res: Response, mode: 'replace' | 'add'): void {
  const channel = channelOr404(state, req, res);
  const { client } = authOf(res);
  const max = state.options.maxTopicsPerChannel;
  const topics = parseTopicList(readJson(req), max);
  const ignoreErrors = String(req.query.ignoreErrors ?? '').toLowerCase() === 'true';
  const rejected = topics.filter((t) => !isTopicAllowed(client.allowedTopics, t));
  if (rejected.length > 0 && !ignoreErrors) {
    throw new GenesysError(403, 'not.authorized', `You are not authorized to subscribe to ${rejected.length} of the requested topics.`);
  }
  const accepted = topics.filter((t) => !rejected.includes(t));
  const next = new Set(mode === 'replace' ? accepted : [...channel.topics, ...accepted]);
  if (next.size > max) {
    throw new GenesysError(400, 'bad.request', `A channel may not subscribe more than ${max} topics.`);
  }
  channel.topics = next;
  if (state.options.resubscribeExtendsChannel) channel.expiresAt = state.options.now() + state.options.channelLifetimeMs;
  state.options.logger.info({ channel: fingerprint(channel.id), topics: next.size, rejected: rejected.length }, 'subscriptions changed');
  const entities: TopicEntity[] = [...next].map((t) => entity(channel, t));
  for (const t of new Set(rejected)) {
    entities.push({ ...entity(channel, t), state: 'Rejected', rejectionReason: 'Missing permissions to subscribe to this topic', missingPermissions: ['notifications:topic:view'] });
  }
  res.json({ entities });
}

function channelOr404(state: SandboxState, req: Request, res: Response): Channel {
  const channelId = String(req.params.channelId);
  const channel = ownChannel(state, authOf(res).client.clientId, channelId);
  if (!channel) throw new GenesysError(404, 'not.found', `Channel ${channelId.slice(0, 100)} not found.`);
  channel.lastUsedAt = state.options.now();
  return channel;
}

/** `[{"id":"v2.…"}, …]` → topic ids; 400 for anything else. */
function parseTopicList(body: unknown, max: number): string[] {
  if (!Array.isArray(body)) throw new GenesysError(400, 'bad.request', 'The request body must be a list of {"id": "<topic>"} objects.');
  if (body.length > max) {
    throw new GenesysError(400, 'bad.request', `A channel may not subscribe more than ${max} topics.`);
  }
  return body.map((item, i) => {
    const id: unknown = item !== null && typeof item === 'object' ? (item as { id?: unknown }).id : undefined;
    if (!isValidTopic(id)) throw new GenesysError(400, 'bad.request', `Topic at index ${i} is not a valid topic name.`);
    return id;
  });
}

function entity(channel: Channel, topic: string): TopicEntity {
  return { id: topic, state: 'Permitted', selfUri: `/api/v2/notifications/channels/${channel.id}/subscriptions` };
}
