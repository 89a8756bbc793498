import Router from '@koa/router';
import { z } from 'zod';
import {
  previewAnswerSchema,
  previewRequestSchema,
  validationReportSchema,
  type FlowTooling,
} from '../../flows/flow-admin-tooling.js';
import type { RouteDoc } from '../openapi/route-doc.js';
import { parseBody, parseIdParam } from '../validation.js';

/** The editor's tools: compiled machine, validation findings, dry-run preview. */
export function createFlowToolingRoutes(deps: { readonly tooling: FlowTooling }): Router {
  const router = new Router();
  router.get('/flows/:id/machine', async (ctx) => {
    ctx.body = await deps.tooling.machine(parseIdParam(ctx.params.id));
  });
  router.get('/flows/:id/validate', async (ctx) => {
    ctx.body = await deps.tooling.validate(parseIdParam(ctx.params.id));
  });
  router.post('/flows/:id/preview', async (ctx) => {
    const id = parseIdParam(ctx.params.id);
    ctx.body = await deps.tooling.preview(id, parseBody(previewRequestSchema, ctx.request.body));
  });
  return router;
}

const tag = 'flow tooling';

export const flowToolingRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/flows/:id/machine',
    tag,
    summary: "The draft flow's compiled XState machine config (paste into Stately's visualizer); 422 when it does not compile",
    response: { status: 200, schema: z.record(z.string(), z.unknown()) },
    errors: [400, 404, 422],
  },
  {
    method: 'get',
    path: '/api/flows/:id/validate',
    tag,
    summary: 'Findings on the draft flow: compile errors, unreachable messages, empty subflows, shared keywords, menus with no way out, unknown variables',
    response: { status: 200, schema: validationReportSchema },
    errors: [400, 404],
  },
  {
    method: 'post',
    path: '/api/flows/:id/preview',
    tag,
    summary: 'What the bot would send for each input on the draft flow; touches no conversation, sends nothing',
    body: previewRequestSchema,
    response: { status: 200, schema: previewAnswerSchema },
    errors: [400, 404, 422],
  },
];
