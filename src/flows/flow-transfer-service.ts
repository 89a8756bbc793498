import type { Database } from '../db/knex.js';
import { NotFoundError } from '../shared/errors.js';
import { insertActivity } from './flow-admin-repository.js';
import { EXPORT_FORMAT, EXPORT_FORMAT_VERSION, type FlowExport } from './flow-export-schema.js';
import { insertTemplateTree, readTemplateTree } from './flow-transfer-repository.js';

export interface FlowTransferService {
  /** The template's active flows, subflows and messages as a portable document (no ids). */
  exportTemplate(templateId: number): Promise<FlowExport>;
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
        format_version: EXPORT_FORMAT_VERSION,
        exported_at: new Date(now()).toISOString(),
        name: tree.template.name,
        description: tree.template.description,
        created_by: tree.template.created_by,
        flows: tree.flows.map(({ flow, subflows }) => {
          const positions = new Map(subflows.map(({ subflow }, position) => [subflow.id, position]));
          return {
            name: flow.name,
            description: flow.description,
            is_default: flow.is_default,
            order_index: flow.order_index,
            subflows: subflows.map(({ subflow, messages }) => ({
              name: subflow.name,
              description: subflow.description,
              trigger_keywords: subflow.trigger_keywords,
              order_index: subflow.order_index,
              // An inactive parent is no parent for a conversation either (the loader skips it).
              parent_subflow_index:
                subflow.parent_subflow_id === null ? null : (positions.get(subflow.parent_subflow_id) ?? null),
              messages: messages.map((message) => ({
                message_text: message.message_text,
                message_type: message.message_type,
                order_index: message.order_index,
                wait_for_response: message.wait_for_response,
                wait_for_file: message.wait_for_file,
                expected_file_types: message.expected_file_types,
                delay_seconds: message.delay_seconds,
                save_response_as: message.save_response_as,
              })),
            })),
          };
        }),
      };
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
