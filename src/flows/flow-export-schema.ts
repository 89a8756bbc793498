import { z } from 'zod';
import { templateRowSchema, flowRowSchema, subflowRowSchema, messageRowSchema } from '../http/openapi/common-schemas.js';
import { flowCreateSchema, messageCreateSchema, subflowCreateSchema, templateCreateSchema } from './flow-admin-schemas.js';

// Two documents carry a whole template between installations.
//
// The export file (SPEC §5), what GET /api/export/flows/:templateId answers and what the front
// end and the earlier Python service exchange: `{template: {<flow_templates columns>}, flows:
// [{<flows columns>, subflows: [{<subflows columns>, messages: [{<flow_messages columns>}]}]}]}`.
// On import, ids, timestamps and unknown keys are ignored, except that `parent_subflow_id` names
// a subflow of the same flow by its `id` in the file. Rows with `is_active: false` are left out
// (an export never holds them either).
//
// The portable document (format_version 1, this service's earlier export and the demo flow): the
// template's fields at the top level and no ids at all; a subflow names its parent by position
// in its flow's `subflows` (`parent_subflow_index`). Every import is turned into this one before
// it is written.
//
// Field rules are the admin API's own (the same schemas), so an import accepts exactly what the
// editor could have built.

export const EXPORT_FORMAT = 'gosac-flow-bot/flow-template';
/** Version 2 is the SPEC §5 export file; version 1 the portable document. */
export const EXPORT_FILE_FORMAT_VERSION = 2;
export const PORTABLE_FORMAT_VERSION = 1;

const MAX_FLOWS = 50;
const MAX_SUBFLOWS = 200;
const MAX_MESSAGES = 200;

const index = z.int({ error: 'must be a whole number' }).min(0, 'must be at least 0');

/**
 * Problems with the parents of one flow's subflows, given as positions in its list (null: no
 * parent; undefined: a parent that is not in the flow). Parents must exist in the same flow and
 * never loop back: the admin API refuses both too.
 */
function parentProblems(parents: ReadonlyArray<number | null | undefined>, missing: (position: number) => string): Array<{ position: number; message: string }> {
  const problems: Array<{ position: number; message: string }> = [];
  parents.forEach((parent, position) => {
    if (parent === null) return;
    if (parent === undefined || parent >= parents.length) {
      problems.push({ position, message: missing(position) });
      return;
    }
    const seen = new Set<number>([position]);
    for (let at: number | null | undefined = parent; at !== null && at !== undefined; at = parents[at]) {
      if (seen.has(at)) {
        problems.push({ position, message: 'a subflow cannot be its own parent or ancestor' });
        return;
      }
      seen.add(at);
    }
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The portable document (format_version 1).

export const exportedMessageSchema = messageCreateSchema.omit({ subflow_id: true, fallback_subflow_id: true }).extend({
  fallback_subflow_index: index
    .nullable()
    .optional()
    .describe("SPEC §10: position of the fallback subflow in this flow's `subflows` (null: none)"),
});

export const exportedSubflowSchema = subflowCreateSchema.omit({ flow_id: true, parent_subflow_id: true, out_of_hours_subflow_id: true }).extend({
  parent_subflow_index: index
    .nullable()
    .optional()
    .describe("position of the parent subflow in this flow's `subflows` (null: no parent)"),
  out_of_hours_subflow_index: index
    .nullable()
    .optional()
    .describe("SPEC §10: position of the out-of-hours subflow in this flow's `subflows` (null: none)"),
  messages: z.array(exportedMessageSchema, { error: 'must be a list of messages' }).max(MAX_MESSAGES, `must hold at most ${MAX_MESSAGES} messages`),
});

export const exportedFlowSchema = flowCreateSchema
  .omit({ template_id: true })
  .extend({
    subflows: z.array(exportedSubflowSchema, { error: 'must be a list of subflows' }).max(MAX_SUBFLOWS, `must hold at most ${MAX_SUBFLOWS} subflows`),
  })
  .superRefine((flow, ctx) => {
    const parents = flow.subflows.map((subflow) => subflow.parent_subflow_index ?? null);
    for (const problem of parentProblems(parents, (position) => `no subflow at position ${parents[position]} in this flow`)) {
      ctx.addIssue({ code: 'custom', path: ['subflows', problem.position, 'parent_subflow_index'], message: problem.message });
    }
    const count = flow.subflows.length;
    flow.subflows.forEach((subflow, position) => {
      const other = subflow.out_of_hours_subflow_index;
      if (other != null && other >= count) {
        ctx.addIssue({ code: 'custom', path: ['subflows', position, 'out_of_hours_subflow_index'], message: `no subflow at position ${other} in this flow` });
      }
      subflow.messages.forEach((message, messagePosition) => {
        const fallback = message.fallback_subflow_index;
        if (fallback != null && fallback >= count) {
          ctx.addIssue({
            code: 'custom',
            path: ['subflows', position, 'messages', messagePosition, 'fallback_subflow_index'],
            message: `no subflow at position ${fallback} in this flow`,
          });
        }
      });
    });
  });

export const flowExportSchema = templateCreateSchema.extend({
  format: z.literal(EXPORT_FORMAT, { error: `must be "${EXPORT_FORMAT}"` }).optional(),
  format_version: z.literal(PORTABLE_FORMAT_VERSION, { error: `must be ${PORTABLE_FORMAT_VERSION}` }).optional(),
  exported_at: z.string().optional(),
  flows: z.array(exportedFlowSchema, { error: 'must be a list of flows' }).max(MAX_FLOWS, `must hold at most ${MAX_FLOWS} flows`),
});

export type FlowExport = z.output<typeof flowExportSchema>;
export type ExportedFlow = z.output<typeof exportedFlowSchema>;
export type ExportedSubflow = z.output<typeof exportedSubflowSchema>;
export type ExportedMessage = z.output<typeof exportedMessageSchema>;

// ---------------------------------------------------------------------------------------------
// The export file (SPEC §5).

// An id as the file gives it: this service writes numbers, another exporter may write text.
const fileId = z.union([z.int(), z.string().trim().min(1)], { error: 'must be an id (a number or text)' });
const idKey = (id: number | string) => String(id);
// The earlier service's columns may be null where this service has a default (NULL arrays,
// NULL flags): null means "the default" on import.
const orNull = <S extends z.ZodType>(schema: S) => schema.nullable().optional();
const activeFlag = orNull(z.boolean({ error: 'must be true or false' }));

const m = messageCreateSchema.shape;
const fileMessageSchema = z.object({
  id: orNull(fileId),
  message_text: m.message_text,
  message_type: orNull(m.message_type.unwrap()),
  order_index: orNull(m.order_index.unwrap()),
  wait_for_response: orNull(m.wait_for_response.unwrap()),
  wait_for_file: orNull(m.wait_for_file.unwrap()),
  expected_file_types: orNull(m.expected_file_types.unwrap()),
  delay_seconds: orNull(m.delay_seconds.unwrap()),
  save_response_as: m.save_response_as,
  actions: orNull(m.actions.unwrap()),
  reminder_after_minutes: m.reminder_after_minutes,
  reminder_text: m.reminder_text,
  max_reprompts: m.max_reprompts,
  fallback_subflow_id: orNull(fileId).describe('SPEC §10: the `id` of a subflow of the same flow in this file'),
  is_active: activeFlag,
});

const s = subflowCreateSchema.shape;
const fileSubflowSchema = z.object({
  id: orNull(fileId).describe('the id other subflows of the same flow give as their parent_subflow_id'),
  name: s.name,
  description: s.description,
  parent_subflow_id: orNull(fileId).describe('the `id` of another subflow of the same flow in this file (null: no parent)'),
  trigger_keywords: orNull(s.trigger_keywords.unwrap()),
  order_index: orNull(s.order_index.unwrap()),
  business_hours_only: orNull(s.business_hours_only.unwrap()),
  out_of_hours_subflow_id: orNull(fileId).describe('SPEC §10: the `id` of a subflow of the same flow in this file'),
  handoff: orNull(s.handoff.unwrap()),
  is_active: activeFlag,
  messages: z
    .array(fileMessageSchema, { error: 'must be a list of messages' })
    .max(MAX_MESSAGES, `must hold at most ${MAX_MESSAGES} messages`)
    .nullable()
    .optional(),
});

const f = flowCreateSchema.shape;
const fileFlowSchema = z
  .object({
    id: orNull(fileId),
    name: f.name,
    description: f.description,
    is_default: orNull(f.is_default.unwrap()),
    order_index: orNull(f.order_index.unwrap()),
    close_after_minutes: f.close_after_minutes,
    close_text: f.close_text,
    is_active: activeFlag,
    subflows: z
      .array(fileSubflowSchema, { error: 'must be a list of subflows' })
      .max(MAX_SUBFLOWS, `must hold at most ${MAX_SUBFLOWS} subflows`)
      .nullable()
      .optional(),
  })
  .superRefine((flow, ctx) => {
    const subflows = flow.subflows ?? [];
    const active = subflows.map((subflow, position) => ({ subflow, position })).filter(({ subflow }) => subflow.is_active !== false);
    // Ids of every subflow in the flow (an inactive parent is no parent: it is not imported).
    const known = new Set(subflows.filter((subflow) => subflow.id != null).map((subflow) => idKey(subflow.id!)));
    const activeIds = new Map<string, number>();
    active.forEach(({ subflow }, at) => {
      if (subflow.id == null) return;
      if (activeIds.has(idKey(subflow.id))) {
        ctx.addIssue({ code: 'custom', path: ['subflows', active[at]!.position, 'id'], message: `another subflow of this flow has the id ${subflow.id}` });
      }
      activeIds.set(idKey(subflow.id), at);
    });
    const parents = active.map(({ subflow }) => {
      const parent = subflow.parent_subflow_id;
      if (parent == null || (known.has(idKey(parent)) && !activeIds.has(idKey(parent)))) return null;
      return activeIds.get(idKey(parent));
    });
    const missing = (at: number) => `no subflow with id ${active[at]!.subflow.parent_subflow_id} in this flow`;
    for (const problem of parentProblems(parents, missing)) {
      ctx.addIssue({ code: 'custom', path: ['subflows', active[problem.position]!.position, 'parent_subflow_id'], message: problem.message });
    }
  });

/** The export file (SPEC §5) as an import reads it: ids, timestamps and unknown keys are ignored. */
export const flowFileSchema = z.object({
  template: z.object(
    {
      id: orNull(fileId),
      name: templateCreateSchema.shape.name,
      description: templateCreateSchema.shape.description,
      created_by: templateCreateSchema.shape.created_by,
    },
    { error: (issue) => (issue.input === undefined ? 'required' : 'must be an object with the template\'s fields') },
  ),
  flows: z.array(fileFlowSchema, { error: 'must be a list of flows' }).max(MAX_FLOWS, `must hold at most ${MAX_FLOWS} flows`),
});

export type FlowFile = z.output<typeof flowFileSchema>;

/** The export file turned into the portable document: active rows only, parents by position. */
export function portableFromFile(file: FlowFile): FlowExport {
  return {
    name: file.template.name,
    description: file.template.description,
    created_by: file.template.created_by,
    flows: file.flows
      .filter((flow) => flow.is_active !== false)
      .map((flow) => {
        const subflows = (flow.subflows ?? []).filter((subflow) => subflow.is_active !== false);
        const positions = new Map(subflows.flatMap((subflow, position) => (subflow.id == null ? [] : [[idKey(subflow.id), position] as const])));
        return {
          name: flow.name,
          description: flow.description,
          is_default: flow.is_default ?? undefined,
          order_index: flow.order_index ?? undefined,
          close_after_minutes: flow.close_after_minutes ?? null,
          close_text: flow.close_text ?? null,
          subflows: subflows.map((subflow) => ({
            name: subflow.name,
            description: subflow.description,
            trigger_keywords: subflow.trigger_keywords ?? undefined,
            order_index: subflow.order_index ?? undefined,
            parent_subflow_index: subflow.parent_subflow_id == null ? null : (positions.get(idKey(subflow.parent_subflow_id)) ?? null),
            business_hours_only: subflow.business_hours_only ?? undefined,
            handoff: subflow.handoff ?? undefined,
            // A reference to a subflow the file does not hold (or left out) is dropped.
            out_of_hours_subflow_index:
              subflow.out_of_hours_subflow_id == null ? null : (positions.get(idKey(subflow.out_of_hours_subflow_id)) ?? null),
            messages: (subflow.messages ?? [])
              .filter((message) => message.is_active !== false)
              .map((message) => ({
                message_text: message.message_text,
                message_type: message.message_type ?? undefined,
                order_index: message.order_index ?? undefined,
                wait_for_response: message.wait_for_response ?? undefined,
                wait_for_file: message.wait_for_file ?? undefined,
                expected_file_types: message.expected_file_types ?? undefined,
                delay_seconds: message.delay_seconds ?? undefined,
                save_response_as: message.save_response_as,
                actions: message.actions ?? undefined,
                reminder_after_minutes: message.reminder_after_minutes ?? null,
                reminder_text: message.reminder_text ?? null,
                max_reprompts: message.max_reprompts ?? null,
                fallback_subflow_index:
                  message.fallback_subflow_id == null ? null : (positions.get(idKey(message.fallback_subflow_id)) ?? null),
              })),
          })),
        };
      }),
  };
}

/** What GET /api/export/flows/:templateId answers (documentation of the rows it copies). */
export const flowFileResponseSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  format_version: z.literal(EXPORT_FILE_FORMAT_VERSION),
  exported_at: z.string(),
  template: templateRowSchema,
  flows: z.array(
    flowRowSchema.extend({
      subflows: z.array(subflowRowSchema.extend({ messages: z.array(messageRowSchema) })),
    }),
  ),
});

export type FlowFileResponse = z.output<typeof flowFileResponseSchema>;
