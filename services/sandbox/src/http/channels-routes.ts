import { Router } from 'express';
import { fingerprint } from '@gtb/logger';
import { channelView, createChannel, ownChannel } from '../channels.js';
import type { SandboxState } from '../state.js';
import { authOf } from './api-auth.js';
import { GenesysError } from './genesys-error.js';

const AVAILABLE_TOPICS = [
  { id: 'v2.users.{id}.presence', description: 'Presence changes of a user' },
  { id: 'v2.users.{id}.routingStatus', description: 'Routing status changes of a user' },
  { id: 'v2.users.{id}.conversations', description: 'Conversations of a user' },
  { id: 'v2.routing.queues.{id}.conversations', description: 'Conversations in a queue' },
  { id: 'v2.analytics.queues.{id}.observations', description: 'Queue observations' },
  { id: 'v2.detail.events.conversation.{id}.acd.start', description: 'A conversation entered ACD' },
];

/** Channel creation, listing, existence checks, and the static available-topics list. */
export function channelsRouter(state: SandboxState): Router {
  const router = Router();
  router.post('/notifications/channels', (_req, res) => {
    const { token } = authOf(res);
    const channel = createChannel(state, token);
    state.options.logger.info({ channel: fingerprint(channel.id), clientId: token.clientId }, 'channel created');
    res.status(200).json(channelView(state, channel));
  });
  router.get('/notifications/channels', (req, res) => {
    const { token } = authOf(res);
    const include = typeof req.query.includechannels === 'string' ? req.query.includechannels : 'token';
    if (include !== 'token' && include !== 'oauthclient') {
      throw new GenesysError(400, 'bad.request', 'includechannels must be token or oauthclient');
    }
    const now = state.options.now();
    const entities = [...state.channels.values()]
      .filter((c) => c.expiresAt > now && c.clientId === token.clientId && (include === 'oauthclient' || c.token === token.token))
      // Other tokens' channels show that they exist, without the id or URI that would let one use them.
      .map((c) => (c.token === token.token ? channelView(state, c) : { expires: new Date(c.expiresAt).toISOString() }));
    res.json({ entities });
  });
  router.head('/notifications/channels/:channelId', (req, res) => {
    const channel = ownChannel(state, authOf(res).client.clientId, req.params.channelId);
    if (channel) channel.lastUsedAt = state.options.now();
    res.status(channel ? 200 : 404).end();
  });
  router.get('/notifications/availabletopics', (_req, res) => {
    res.json({ entities: AVAILABLE_TOPICS });
  });
  return router;
}
