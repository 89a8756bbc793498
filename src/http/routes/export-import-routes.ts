import Router from '@koa/router';
import { z } from 'zod';
import { flowExportSchema } from '../../flows/flow-export-schema.js';
import type { FlowTransferService } from '../../flows/flow-transfer-service.js';
import type { RouteDoc } from '../openapi/route-doc.js';
import { parseBody, parseIdParam } from '../validation.js';

export function createExportImportRoutes(deps: { readonly transfer: FlowTransferService }): Router {
  const router = new Router();
  router.get('/export/flows/:templateId', async (ctx) => {
    ctx.body = await deps.transfer.exportTemplate(parseIdParam(ctx.params.templateId, 'templateId'));
  });
  router.post('/import/flows', async (ctx) => {
    // The whole document is validated before the first row is written.
    const { templateId } = await deps.transfer.importTemplate(parseBody(flowExportSchema, ctx.request.body));
    ctx.status = 201;
    ctx.body = { template_id: templateId, status: 'imported' };
  });
  return router;
}

const tag = 'export-import';

export const exportImportRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/export/flows/:templateId',
    tag,
    summary:
      "A template with its active flows → subflows → messages, in order, without database ids (a subflow's parent is `parent_subflow_index`, its position in the flow's `subflows`). POST it to /api/import/flows to copy it.",
    response: { status: 200, schema: flowExportSchema },
    errors: [400, 404],
  },
  {
    method: 'post',
    path: '/api/import/flows',
    tag,
    summary:
      'Imports an export as a new template "Imported - <name>" with all its flows, subflows and messages, in one transaction. The whole document is validated first (400 with every bad field by path, e.g. flows.0.subflows.2.messages.1.message_text) and nothing is written when any part is invalid. Imported flows are never the default (is_default is ignored).',
    body: flowExportSchema,
    response: { status: 201, schema: z.object({ template_id: z.int(), status: z.literal('imported') }) },
    errors: [400],
  },
];
