import type { Database } from '../db/knex.js';
import { NotFoundError } from '../shared/errors.js';
import { insertActivity } from './flow-admin-repository.js';
import { EXPORT_FILE_FORMAT_VERSION, EXPORT_FORMAT, type FlowExport, type FlowFileResponse } from './flow-export-schema.js';
import { insertTemplateTree, readTemplateTree } from './flow-transfer-repository.js';

export interface FlowTransferService {
  /** The template's active flows, subflows and messages as the SPEC §5 export file (rows as stored). */
  exportTemplate(templateId: number): Promise<FlowFileResponse>;
  /** Creates "Imported - <name>" and everything below it in one transaction; never a default flow. */
  importTemplate(document: FlowExport): Promise<{ templateId: number }>;
}

export const IMPORTED_PREFIX = 'Imported - ';

export function createFlowTransferService(deps: { readonly db: Database; readonly now?: () => number }): FlowTransferService {
  const { db } = deps;
  const now = deps.now ?? Date.now;

  return {
    async exportTemplate(templateId) {
      const tree = await readTemplateTree(db, templateId);
      if (!tree) throw new NotFoundError(`template ${templateId} not found`);
      return {
        format: EXPORT_FORMAT,
        format_version: EXPORT_FILE_FORMAT_VERSION,
        exported_at: new Date(now()).toISOString(),
        template: { ...tree.template },
        flows: tree.flows.map(({ flow, subflows }) => {
          const exportedIds = new Set(subflows.map(({ subflow }) => subflow.id));
          return {
            ...flow,
            subflows: subflows.map(({ subflow, messages }) => ({
              ...subflow,
              // An inactive parent is no parent for a conversation either (the loader skips it),
              // and it is not in the file.
              parent_subflow_id:
                subflow.parent_subflow_id !== null && exportedIds.has(subflow.parent_subflow_id) ? subflow.parent_subflow_id : null,
              messages: messages.map((message) => ({ ...message })),
            })),
          };
        }),
      } as FlowFileResponse;
    },

    async importTemplate(document) {
      return db.transaction(async (trx) => {
        // An import must never change which flow answers new conversations.
        const { templateId, counts } = await insertTemplateTree(trx, document, {
          name: `${IMPORTED_PREFIX}${document.name}`,
          keepDefault: false,
        });
        await insertActivity(trx, 'admin', {
          action: 'flow_template.imported',
          details: { template_id: templateId, source_name: document.name, ...counts },
          after: { template_id: templateId, name: `${IMPORTED_PREFIX}${document.name}`, ...counts },
        });
        return { templateId };
      });
    },
  };
}
