import Router from '@koa/router';
import { z } from 'zod';
import {
  flowExportSchema,
  flowFileResponseSchema,
  flowFileSchema,
  portableFromFile,
  type FlowExport,
} from '../../flows/flow-export-schema.js';
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
    const { templateId } = await deps.transfer.importTemplate(parseImport(ctx.request.body));
    ctx.status = 201;
    ctx.body = { template_id: templateId, status: 'imported' };
  });
  return router;
}

/**
 * The export file (SPEC §5: `{template, flows}`, from this service, the front end or the earlier
 * Python service) or this service's earlier portable document (`{name, flows}`, format_version 1).
 */
function parseImport(body: unknown): FlowExport {
  const isFile = typeof body === 'object' && body !== null && !Array.isArray(body) && Object.hasOwn(body, 'template');
  return isFile ? portableFromFile(parseBody(flowFileSchema, body)) : parseBody(flowExportSchema, body);
}

const tag = 'export-import';

export const exportImportRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/export/flows/:templateId',
    tag,
    summary:
      "The SPEC §5 export file: `{template: {<flow_templates columns>}, flows: [{<flows columns>, subflows: [{<subflows columns>, messages: [{<flow_messages columns>}]}]}]}` with the template's active flows, subflows and messages in order (order_index, then id), rows as stored (ids and timestamps included; a subflow's parent_subflow_id is the id of another subflow in the file), plus format, format_version (2) and exported_at. POST it to /api/import/flows to copy it.",
    response: { status: 200, schema: flowFileResponseSchema },
    errors: [400, 404],
  },
  {
    method: 'post',
    path: '/api/import/flows',
    tag,
    summary:
      'Imports an export file as a new template "Imported - <template.name>" with all its flows, subflows and messages, in one transaction. Takes the SPEC §5 export file as this service or the earlier Python service writes it: ids, timestamps and unknown keys are ignored, parent_subflow_id names another subflow of the same flow by its id in the file, rows with is_active false are left out, null means the default. Also accepted: the earlier portable document `{name, description?, created_by?, flows: [{..., subflows: [{..., parent_subflow_index, messages}]}]}` (format_version 1, no ids). The whole document is validated first (400 with every bad field by path, e.g. flows.0.subflows.2.messages.1.message_text) and nothing is written when any part is invalid. Imported flows are never the default (is_default is ignored).',
    body: flowFileSchema,
    response: { status: 201, schema: z.object({ template_id: z.int(), status: z.literal('imported') }) },
    errors: [400],
  },
];
