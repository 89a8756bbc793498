import Router from '@koa/router';
import type { FlowAdminService } from '../../flows/flow-admin-service.js';
import { messageCreateSchema, messageUpdateSchema } from '../../flows/flow-admin-schemas.js';
import { parseBody, parseIdParam, parsePatch } from '../validation.js';

export function createMessageRoutes(deps: { readonly flows: FlowAdminService }): Router {
  const router = new Router();
  router.get('/subflows/:id/messages', async (ctx) => {
    ctx.body = await deps.flows.listMessages(parseIdParam(ctx.params.id));
  });
  router.get('/flow-messages/:id', async (ctx) => {
    ctx.body = await deps.flows.getMessage(parseIdParam(ctx.params.id));
  });
  router.post('/flow-messages', async (ctx) => {
    const message = await deps.flows.createMessage(parseBody(messageCreateSchema, ctx.request.body));
    ctx.status = 201;
    ctx.body = { id: message.id, status: 'created' };
  });
  router.put('/flow-messages/:id', async (ctx) => {
    const id = parseIdParam(ctx.params.id);
    await deps.flows.updateMessage(id, parsePatch(messageUpdateSchema, ctx.request.body));
    ctx.body = { status: 'updated' };
  });
  router.delete('/flow-messages/:id', async (ctx) => {
    await deps.flows.deleteMessage(parseIdParam(ctx.params.id));
    ctx.body = { status: 'deleted' };
  });
  return router;
}
