import Router, { type RouterMiddleware } from '@koa/router';
import { z } from 'zod';
import type { FlowAdminService } from '../../flows/flow-admin-service.js';
import { messageCreateSchema, messageUpdateSchema, reorderSchema } from '../../flows/flow-admin-schemas.js';
import { createdSchema, messageRowSchema, statusSchema } from '../openapi/common-schemas.js';
import type { RouteDoc } from '../openapi/route-doc.js';
import { parseBody, parseIdParam, parsePatch } from '../validation.js';

export function createMessageRoutes(deps: { readonly flows: FlowAdminService }): Router {
  const router = new Router();
  router.get('/subflows/:id/messages', async (ctx) => {
    ctx.body = await deps.flows.listMessages(parseIdParam(ctx.params.id));
  });
  router.post('/subflows/:id/messages/reorder', async (ctx) => {
    const id = parseIdParam(ctx.params.id);
    await deps.flows.reorderMessages(id, parseBody(reorderSchema, ctx.request.body).ids);
    ctx.body = { status: 'reordered' };
  });
  router.get('/flow-messages/:id', async (ctx) => {
    ctx.body = await deps.flows.getMessage(parseIdParam(ctx.params.id));
  });
  router.post('/flow-messages', async (ctx) => {
    const message = await deps.flows.createMessage(parseBody(messageCreateSchema, ctx.request.body));
    ctx.status = 201;
    ctx.body = { id: message.id, status: 'created' };
  });
  const update: RouterMiddleware = async (ctx) => {
    const id = parseIdParam(ctx.params.id);
    await deps.flows.updateMessage(id, parsePatch(messageUpdateSchema, ctx.request.body));
    ctx.body = { status: 'updated' };
  };
  router.put('/flow-messages/:id', update);
  router.patch('/flow-messages/:id', update);
  router.delete('/flow-messages/:id', async (ctx) => {
    await deps.flows.deleteMessage(parseIdParam(ctx.params.id));
    ctx.body = { status: 'deleted' };
  });
  return router;
}

const tag = 'messages';
const updated = { status: 200, schema: statusSchema('updated') };

export const messageRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/subflows/:id/messages',
    tag,
    summary: "A subflow's active messages, in order",
    response: { status: 200, schema: z.array(messageRowSchema) },
    errors: [400, 404],
  },
  {
    method: 'post',
    path: '/api/subflows/:id/messages/reorder',
    tag,
    summary: "Reorder a subflow's messages: ids must be exactly its active messages",
    body: reorderSchema,
    response: { status: 200, schema: statusSchema('reordered') },
    errors: [400, 404],
  },
  { method: 'get', path: '/api/flow-messages/:id', tag, summary: 'One active message', response: { status: 200, schema: messageRowSchema }, errors: [400, 404] },
  { method: 'post', path: '/api/flow-messages', tag, summary: 'Create a message', body: messageCreateSchema, response: { status: 201, schema: createdSchema }, errors: [400] },
  { method: 'put', path: '/api/flow-messages/:id', tag, summary: 'Update a message (fields left out keep their value)', body: messageUpdateSchema, response: updated, errors: [400, 404] },
  { method: 'patch', path: '/api/flow-messages/:id', tag, summary: 'Update some fields of a message', body: messageUpdateSchema, response: updated, errors: [400, 404] },
  { method: 'delete', path: '/api/flow-messages/:id', tag, summary: 'Deactivate a message', response: { status: 200, schema: statusSchema('deleted') }, errors: [400, 404] },
];
