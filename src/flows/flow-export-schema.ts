import { z } from 'zod';
import { flowCreateSchema, messageCreateSchema, subflowCreateSchema, templateCreateSchema } from './flow-admin-schemas.js';

// The export document: a template with its flows → subflows → messages, field names as in the
// admin API, and no database ids. A subflow names its parent by position in its flow's
// `subflows` array, so a document can be moved between databases. Field rules are the admin
// API's own (the same schemas), so an import accepts exactly what the editor could have built.

export const EXPORT_FORMAT = 'gosac-flow-bot/flow-template';
export const EXPORT_FORMAT_VERSION = 1;

const index = z.int({ error: 'must be a whole number' }).min(0, 'must be at least 0');

export const exportedMessageSchema = messageCreateSchema.omit({ subflow_id: true });

export const exportedSubflowSchema = subflowCreateSchema.omit({ flow_id: true, parent_subflow_id: true }).extend({
  parent_subflow_index: index
    .nullable()
    .optional()
    .describe("position of the parent subflow in this flow's `subflows` (null: no parent)"),
  messages: z.array(exportedMessageSchema, { error: 'must be a list of messages' }).max(200, 'must hold at most 200 messages'),
});

export const exportedFlowSchema = flowCreateSchema
  .omit({ template_id: true })
  .extend({
    subflows: z.array(exportedSubflowSchema, { error: 'must be a list of subflows' }).max(200, 'must hold at most 200 subflows'),
  })
  .superRefine((flow, ctx) => {
    // Parents must exist in the same flow and never loop back: the admin API refuses both too.
    flow.subflows.forEach((subflow, position) => {
      const parent = subflow.parent_subflow_index;
      if (parent === null || parent === undefined) return;
      const path = ['subflows', position, 'parent_subflow_index'];
      if (parent >= flow.subflows.length) {
        ctx.addIssue({ code: 'custom', path, message: `no subflow at position ${parent} in this flow` });
        return;
      }
      const seen = new Set<number>([position]);
      for (let at: number | null | undefined = parent; at !== null && at !== undefined; at = flow.subflows[at]?.parent_subflow_index) {
        if (seen.has(at)) {
          ctx.addIssue({ code: 'custom', path, message: 'a subflow cannot be its own parent or ancestor' });
          return;
        }
        seen.add(at);
      }
    });
  });

export const flowExportSchema = templateCreateSchema.extend({
  format: z.literal(EXPORT_FORMAT, { error: `must be "${EXPORT_FORMAT}"` }).optional(),
  format_version: z.literal(EXPORT_FORMAT_VERSION, { error: `must be ${EXPORT_FORMAT_VERSION}` }).optional(),
  exported_at: z.string().optional(),
  flows: z.array(exportedFlowSchema, { error: 'must be a list of flows' }).max(50, 'must hold at most 50 flows'),
});

export type FlowExport = z.output<typeof flowExportSchema>;
export type ExportedFlow = z.output<typeof exportedFlowSchema>;
export type ExportedSubflow = z.output<typeof exportedSubflowSchema>;
export type ExportedMessage = z.output<typeof exportedMessageSchema>;
