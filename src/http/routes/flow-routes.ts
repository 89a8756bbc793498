import Router, { type RouterMiddleware } from '@koa/router';
import { z } from 'zod';
import type { FlowAdminService } from '../../flows/flow-admin-service.js';
import { flowCreateSchema, flowUpdateSchema, reorderSchema } from '../../flows/flow-admin-schemas.js';
import { createdSchema, flowRowSchema, statusSchema } from '../openapi/common-schemas.js';
import type { RouteDoc } from '../openapi/route-doc.js';
import { parseBody, parseIdParam, parsePatch } from '../validation.js';

export function createFlowRoutes(deps: { readonly flows: FlowAdminService }): Router {
  const router = new Router();
  router.get('/templates/:id/flows', async (ctx) => {
    ctx.body = await deps.flows.listFlows(parseIdParam(ctx.params.id));
  });
  router.post('/templates/:id/flows/reorder', async (ctx) => {
    const id = parseIdParam(ctx.params.id);
    await deps.flows.reorderFlows(id, parseBody(reorderSchema, ctx.request.body).ids);
    ctx.body = { status: 'reordered' };
  });
  router.get('/flows/:id', async (ctx) => {
    ctx.body = await deps.flows.getFlow(parseIdParam(ctx.params.id));
  });
  router.post('/flows', async (ctx) => {
    const flow = await deps.flows.createFlow(parseBody(flowCreateSchema, ctx.request.body));
    ctx.status = 201;
    ctx.body = { id: flow.id, status: 'created' };
  });
  const update: RouterMiddleware = async (ctx) => {
    const id = parseIdParam(ctx.params.id);
    await deps.flows.updateFlow(id, parsePatch(flowUpdateSchema, ctx.request.body));
    ctx.body = { status: 'updated' };
  };
  router.put('/flows/:id', update);
  router.patch('/flows/:id', update);
  router.delete('/flows/:id', async (ctx) => {
    await deps.flows.deleteFlow(parseIdParam(ctx.params.id));
    ctx.body = { status: 'deleted' };
  });
  return router;
}

const tag = 'flows';
const updated = { status: 200, schema: statusSchema('updated') };

export const flowRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/templates/:id/flows',
    tag,
    summary: "A template's active flows with subflows_count, in order",
    response: { status: 200, schema: z.array(flowRowSchema.extend({ subflows_count: z.int() })) },
    errors: [400, 404],
  },
  {
    method: 'post',
    path: '/api/templates/:id/flows/reorder',
    tag,
    summary: "Reorder a template's flows: ids must be exactly its active flows",
    body: reorderSchema,
    response: { status: 200, schema: statusSchema('reordered') },
    errors: [400, 404],
  },
  { method: 'get', path: '/api/flows/:id', tag, summary: 'One active flow', response: { status: 200, schema: flowRowSchema }, errors: [400, 404] },
  {
    method: 'post',
    path: '/api/flows',
    tag,
    summary: 'Create a flow (is_default takes the default from any other flow)',
    body: flowCreateSchema,
    response: { status: 201, schema: createdSchema },
    errors: [400, 409],
  },
  { method: 'put', path: '/api/flows/:id', tag, summary: 'Update a flow (fields left out keep their value)', body: flowUpdateSchema, response: updated, errors: [400, 404, 409] },
  { method: 'patch', path: '/api/flows/:id', tag, summary: 'Update some fields of a flow', body: flowUpdateSchema, response: updated, errors: [400, 404, 409] },
  { method: 'delete', path: '/api/flows/:id', tag, summary: 'Deactivate a flow', response: { status: 200, schema: statusSchema('deleted') }, errors: [400, 404] },
];
