import Router from '@koa/router';
import type { FlowAdminService } from '../../flows/flow-admin-service.js';
import { templateCreateSchema, templateUpdateSchema } from '../../flows/flow-admin-schemas.js';
import { parseBody, parseIdParam, parsePatch } from '../validation.js';

export function createTemplateRoutes(deps: { readonly flows: FlowAdminService }): Router {
  const router = new Router();
  router.get('/flow-templates', async (ctx) => {
    ctx.body = await deps.flows.listTemplates();
  });
  router.get('/flow-templates/:id', async (ctx) => {
    ctx.body = await deps.flows.getTemplate(parseIdParam(ctx.params.id));
  });
  router.post('/flow-templates', async (ctx) => {
    const template = await deps.flows.createTemplate(parseBody(templateCreateSchema, ctx.request.body));
    ctx.status = 201;
    ctx.body = { id: template.id, status: 'created' };
  });
  router.put('/flow-templates/:id', async (ctx) => {
    const id = parseIdParam(ctx.params.id);
    await deps.flows.updateTemplate(id, parsePatch(templateUpdateSchema, ctx.request.body));
    ctx.body = { status: 'updated' };
  });
  router.delete('/flow-templates/:id', async (ctx) => {
    await deps.flows.deleteTemplate(parseIdParam(ctx.params.id));
    ctx.body = { status: 'deleted' };
  });
  return router;
}
