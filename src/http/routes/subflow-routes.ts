import Router, { type RouterMiddleware } from '@koa/router';
import { z } from 'zod';
import type { FlowAdminService } from '../../flows/flow-admin-service.js';
import { reorderSchema, subflowCreateSchema, subflowUpdateSchema } from '../../flows/flow-admin-schemas.js';
import { createdSchema, statusSchema, subflowRowSchema } from '../openapi/common-schemas.js';
import type { RouteDoc } from '../openapi/route-doc.js';
import { parseBody, parseIdParam, parsePatch } from '../validation.js';

export function createSubflowRoutes(deps: { readonly flows: FlowAdminService }): Router {
  const router = new Router();
  router.get('/flows/:id/subflows', async (ctx) => {
    ctx.body = await deps.flows.listSubflows(parseIdParam(ctx.params.id));
  });
  router.post('/flows/:id/subflows/reorder', async (ctx) => {
    const id = parseIdParam(ctx.params.id);
    await deps.flows.reorderSubflows(id, parseBody(reorderSchema, ctx.request.body).ids);
    ctx.body = { status: 'reordered' };
  });
  router.get('/subflows/:id', async (ctx) => {
    ctx.body = await deps.flows.getSubflow(parseIdParam(ctx.params.id));
  });
  router.post('/subflows', async (ctx) => {
    const subflow = await deps.flows.createSubflow(parseBody(subflowCreateSchema, ctx.request.body));
    ctx.status = 201;
    ctx.body = { id: subflow.id, status: 'created' };
  });
  const update: RouterMiddleware = async (ctx) => {
    const id = parseIdParam(ctx.params.id);
    await deps.flows.updateSubflow(id, parsePatch(subflowUpdateSchema, ctx.request.body));
    ctx.body = { status: 'updated' };
  };
  router.put('/subflows/:id', update);
  router.patch('/subflows/:id', update);
  router.delete('/subflows/:id', async (ctx) => {
    await deps.flows.deleteSubflow(parseIdParam(ctx.params.id));
    ctx.body = { status: 'deleted' };
  });
  return router;
}

const tag = 'subflows';
const updated = { status: 200, schema: statusSchema('updated') };

export const subflowRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/flows/:id/subflows',
    tag,
    summary: "A flow's active subflows with messages_count, in order",
    response: { status: 200, schema: z.array(subflowRowSchema.extend({ messages_count: z.int() })) },
    errors: [400, 404],
  },
  {
    method: 'post',
    path: '/api/flows/:id/subflows/reorder',
    tag,
    summary: "Reorder a flow's subflows: ids must be exactly its active subflows",
    body: reorderSchema,
    response: { status: 200, schema: statusSchema('reordered') },
    errors: [400, 404],
  },
  { method: 'get', path: '/api/subflows/:id', tag, summary: 'One active subflow', response: { status: 200, schema: subflowRowSchema }, errors: [400, 404] },
  { method: 'post', path: '/api/subflows', tag, summary: 'Create a subflow', body: subflowCreateSchema, response: { status: 201, schema: createdSchema }, errors: [400] },
  {
    method: 'put',
    path: '/api/subflows/:id',
    tag,
    summary: 'Update a subflow (fields left out keep their value)',
    body: subflowUpdateSchema,
    response: updated,
    errors: [400, 404, 409],
  },
  { method: 'patch', path: '/api/subflows/:id', tag, summary: 'Update some fields of a subflow', body: subflowUpdateSchema, response: updated, errors: [400, 404, 409] },
  {
    method: 'delete',
    path: '/api/subflows/:id',
    tag,
    summary: 'Deactivate a subflow (409 while it is the parent of active subflows)',
    response: { status: 200, schema: statusSchema('deleted') },
    errors: [400, 404, 409],
  },
];
