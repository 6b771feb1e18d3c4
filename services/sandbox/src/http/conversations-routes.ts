import { Router } from 'express';
import { conversationView } from '../model/conversations.js';
import type { SandboxState } from '../state.js';
import { GenesysError } from './genesys-error.js';

/**
 * `GET /conversations/{conversationId}`: a conversation the generated events created, live or
 * ended (the last 10,000 ended ones are remembered); 404 otherwise.
 */
export function conversationsRouter(state: SandboxState): Router {
  const router = Router();
  router.get('/conversations/:conversationId', (req, res) => {
    const conversation = state.world.conversations.get(req.params.conversationId);
    if (!conversation) throw new GenesysError(404, 'not.found', `Conversation ${req.params.conversationId.slice(0, 100)} not found.`);
    res.json(conversationView(conversation));
  });
  return router;
}
