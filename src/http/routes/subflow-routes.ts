import Router from '@koa/router';
import type { FlowAdminService } from '../../flows/flow-admin-service.js';
import { subflowCreateSchema, subflowUpdateSchema } from '../../flows/flow-admin-schemas.js';
import { parseBody, parseIdParam, parsePatch } from '../validation.js';

export function createSubflowRoutes(deps: { readonly flows: FlowAdminService }): Router {
  const router = new Router();
  router.get('/flows/:id/subflows', async (ctx) => {
    ctx.body = await deps.flows.listSubflows(parseIdParam(ctx.params.id));
  });
  router.get('/subflows/:id', async (ctx) => {
    ctx.body = await deps.flows.getSubflow(parseIdParam(ctx.params.id));
  });
  router.post('/subflows', async (ctx) => {
    const subflow = await deps.flows.createSubflow(parseBody(subflowCreateSchema, ctx.request.body));
    ctx.status = 201;
    ctx.body = { id: subflow.id, status: 'created' };
  });
  router.put('/subflows/:id', async (ctx) => {
    const id = parseIdParam(ctx.params.id);
    await deps.flows.updateSubflow(id, parsePatch(subflowUpdateSchema, ctx.request.body));
    ctx.body = { status: 'updated' };
  });
  router.delete('/subflows/:id', async (ctx) => {
    await deps.flows.deleteSubflow(parseIdParam(ctx.params.id));
    ctx.body = { status: 'deleted' };
  });
  return router;
}
