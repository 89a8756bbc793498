import Router from '@koa/router';
import type { FlowAdminService } from '../../flows/flow-admin-service.js';
import { flowCreateSchema, flowUpdateSchema } from '../../flows/flow-admin-schemas.js';
import { parseBody, parseIdParam, parsePatch } from '../validation.js';

export function createFlowRoutes(deps: { readonly flows: FlowAdminService }): Router {
  const router = new Router();
  router.get('/templates/:id/flows', async (ctx) => {
    ctx.body = await deps.flows.listFlows(parseIdParam(ctx.params.id));
  });
  router.get('/flows/:id', async (ctx) => {
    ctx.body = await deps.flows.getFlow(parseIdParam(ctx.params.id));
  });
  router.post('/flows', async (ctx) => {
    const flow = await deps.flows.createFlow(parseBody(flowCreateSchema, ctx.request.body));
    ctx.status = 201;
    ctx.body = { id: flow.id, status: 'created' };
  });
  router.put('/flows/:id', async (ctx) => {
    const id = parseIdParam(ctx.params.id);
    await deps.flows.updateFlow(id, parsePatch(flowUpdateSchema, ctx.request.body));
    ctx.body = { status: 'updated' };
  });
  router.delete('/flows/:id', async (ctx) => {
    await deps.flows.deleteFlow(parseIdParam(ctx.params.id));
    ctx.body = { status: 'deleted' };
  });
  return router;
}
