import Router from '@koa/router';
import type { ConversationQueries } from '../../conversations/conversation-queries.js';
import { parseIdParam } from '../validation.js';

// Conversation ids are BIGINT: allow the whole safe-integer range.
const parseConversationId = (value: string | undefined) => parseIdParam(value, 'id', Number.MAX_SAFE_INTEGER);

export function createConversationRoutes(deps: { readonly conversations: ConversationQueries }): Router {
  const router = new Router();
  router.get('/conversations', async (ctx) => {
    ctx.body = await deps.conversations.listRecentActive(50);
  });
  router.get('/conversations/:id', async (ctx) => {
    ctx.body = await deps.conversations.get(parseConversationId(ctx.params.id));
  });
  router.get('/conversations/:id/history', async (ctx) => {
    ctx.body = await deps.conversations.history(parseConversationId(ctx.params.id));
  });
  return router;
}
