import Router, { type RouterMiddleware } from '@koa/router';
import { z } from 'zod';
import type { FlowAdminService } from '../../flows/flow-admin-service.js';
import { templateCreateSchema, templateUpdateSchema } from '../../flows/flow-admin-schemas.js';
import { createdSchema, statusSchema, templateRowSchema } from '../openapi/common-schemas.js';
import type { RouteDoc } from '../openapi/route-doc.js';
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
  // PUT keeps the seed's contract (fields left out keep their value); PATCH says so explicitly.
  const update: RouterMiddleware = async (ctx) => {
    const id = parseIdParam(ctx.params.id);
    await deps.flows.updateTemplate(id, parsePatch(templateUpdateSchema, ctx.request.body));
    ctx.body = { status: 'updated' };
  };
  router.put('/flow-templates/:id', update);
  router.patch('/flow-templates/:id', update);
  router.delete('/flow-templates/:id', async (ctx) => {
    await deps.flows.deleteTemplate(parseIdParam(ctx.params.id));
    ctx.body = { status: 'deleted' };
  });
  return router;
}

const tag = 'templates';
const updated = { status: 200, schema: statusSchema('updated') };

export const templateRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/flow-templates',
    tag,
    summary: 'Active templates with flows_count',
    response: { status: 200, schema: z.array(templateRowSchema.extend({ flows_count: z.int() })) },
  },
  { method: 'get', path: '/api/flow-templates/:id', tag, summary: 'One active template', response: { status: 200, schema: templateRowSchema }, errors: [400, 404] },
  { method: 'post', path: '/api/flow-templates', tag, summary: 'Create a template', body: templateCreateSchema, response: { status: 201, schema: createdSchema }, errors: [400] },
  { method: 'put', path: '/api/flow-templates/:id', tag, summary: 'Update a template (fields left out keep their value)', body: templateUpdateSchema, response: updated, errors: [400, 404] },
  { method: 'patch', path: '/api/flow-templates/:id', tag, summary: 'Update some fields of a template', body: templateUpdateSchema, response: updated, errors: [400, 404] },
  {
    method: 'delete',
    path: '/api/flow-templates/:id',
    tag,
    summary: 'Deactivate a template and its flows',
    response: { status: 200, schema: statusSchema('deleted') },
    errors: [400, 404],
  },
];
