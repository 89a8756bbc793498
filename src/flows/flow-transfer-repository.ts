import type { Knex } from 'knex';
import type { FlowRow, MessageRow, SubflowRow, TemplateRow } from './flow-admin-repository.js';
import { withJsonColumns } from './flow-admin-repository.js';
import type { FlowExport } from './flow-export-schema.js';

// Reads a whole template for export and writes a whole one for import. Active rows only, in the
// order conversations see them (order_index, then id).

type Runner = Knex | Knex.Transaction;
const ordered = [{ column: 'order_index' }, { column: 'id' }];

export interface TemplateTree {
  template: TemplateRow;
  flows: Array<{ flow: FlowRow; subflows: Array<{ subflow: SubflowRow; messages: MessageRow[] }> }>;
}

export async function readTemplateTree(db: Runner, templateId: number): Promise<TemplateTree | undefined> {
  const template = (await db('flow_templates').where({ id: templateId, is_active: true }).first()) as TemplateRow | undefined;
  if (!template) return undefined;
  const flows = (await db('flows').where({ template_id: templateId, is_active: true }).orderBy(ordered)) as FlowRow[];
  const subflows = (await db('subflows')
    .whereIn('flow_id', flows.map((flow) => flow.id))
    .andWhere({ is_active: true })
    .orderBy(ordered)) as SubflowRow[];
  const messages = (await db('flow_messages')
    .whereIn('subflow_id', subflows.map((subflow) => subflow.id))
    .andWhere({ is_active: true })
    .orderBy(ordered)) as MessageRow[];
  return {
    template,
    flows: flows.map((flow) => ({
      flow,
      subflows: subflows
        .filter((subflow) => subflow.flow_id === flow.id)
        .map((subflow) => ({ subflow, messages: messages.filter((message) => message.subflow_id === subflow.id) })),
    })),
  };
}

async function insertReturningId(db: Runner, table: string, values: Record<string, unknown>): Promise<number> {
  const [row] = (await db(table).insert(values).returning('id')) as Array<{ id: number }>;
  if (!row) throw new Error(`${table} insert returned no id`);
  return row.id;
}

async function insertMessages(db: Runner, rows: ReadonlyArray<Record<string, unknown>>): Promise<number> {
  if (rows.length === 0) return 0;
  await db('flow_messages').insert(rows.map(withJsonColumns));
  return rows.length;
}

async function setParentSubflow(db: Runner, subflowId: number, parentId: number): Promise<void> {
  await db('subflows').where({ id: subflowId }).update({ parent_subflow_id: parentId });
}

/**
 * Writes a whole template given as an export document (import, and the demo flow on a fresh
 * database). `keepDefault` false makes every flow non-default, whatever the document says.
 */
export async function insertTemplateTree(
  trx: Knex.Transaction,
  document: FlowExport,
  options: { readonly name: string; readonly keepDefault: boolean },
): Promise<{ templateId: number; counts: { flows: number; subflows: number; messages: number } }> {
  const counts = { flows: 0, subflows: 0, messages: 0 };
  const templateId = await insertReturningId(trx, 'flow_templates', {
    name: options.name,
    description: document.description ?? null,
    created_by: document.created_by ?? null,
  });
  for (const [flowPosition, flow] of document.flows.entries()) {
    const flowId = await insertReturningId(trx, 'flows', {
      template_id: templateId,
      name: flow.name,
      description: flow.description ?? null,
      is_default: options.keepDefault && flow.is_default === true,
      order_index: flow.order_index ?? flowPosition,
      close_after_minutes: flow.close_after_minutes ?? null,
      close_text: flow.close_text ?? null,
    });
    counts.flows += 1;
    const subflowIds: number[] = [];
    for (const [position, subflow] of flow.subflows.entries()) {
      const subflowId = await insertReturningId(trx, 'subflows', {
        flow_id: flowId,
        name: subflow.name,
        description: subflow.description ?? null,
        trigger_keywords: subflow.trigger_keywords ?? [],
        order_index: subflow.order_index ?? position,
        business_hours_only: subflow.business_hours_only ?? false,
        handoff: subflow.handoff ?? false,
      });
      subflowIds.push(subflowId);
      counts.subflows += 1;
      counts.messages += await insertMessages(
        trx,
        subflow.messages.map((message, messagePosition) => ({
          subflow_id: subflowId,
          message_text: message.message_text,
          message_type: message.message_type ?? 'text',
          order_index: message.order_index ?? messagePosition,
          wait_for_response: message.wait_for_response ?? true,
          wait_for_file: message.wait_for_file ?? false,
          expected_file_types: message.expected_file_types ?? [],
          delay_seconds: message.delay_seconds ?? 0,
          save_response_as: message.save_response_as ?? null,
          actions: message.actions ?? [],
          reminder_after_minutes: message.reminder_after_minutes ?? null,
          reminder_text: message.reminder_text ?? null,
          max_reprompts: message.max_reprompts ?? null,
        })),
      );
    }
    // Parents after every subflow exists: a parent may come later in the list.
    for (const [position, subflow] of flow.subflows.entries()) {
      const parent = subflow.parent_subflow_index;
      const self = subflowIds[position];
      const parentId = parent === null || parent === undefined ? undefined : subflowIds[parent];
      if (self !== undefined && parentId !== undefined) await setParentSubflow(trx, self, parentId);
    }
    await linkAttendantSubflows(trx, flow, subflowIds);
  }
  return { templateId, counts };
}

/** SPEC §10 references between subflows of one flow, by position, once every subflow exists. */
async function linkAttendantSubflows(trx: Knex.Transaction, flow: FlowExport['flows'][number], subflowIds: readonly number[]): Promise<void> {
  const at = (position: number | null | undefined) => (position === null || position === undefined ? undefined : subflowIds[position]);
  for (const [position, subflow] of flow.subflows.entries()) {
    const self = subflowIds[position];
    const outOfHours = at(subflow.out_of_hours_subflow_index);
    if (self !== undefined && outOfHours !== undefined) {
      await trx('subflows').where({ id: self }).update({ out_of_hours_subflow_id: outOfHours });
    }
    const withFallback = subflow.messages.map((message, index) => ({ index, fallback: at(message.fallback_subflow_index) })).filter((m) => m.fallback !== undefined);
    if (self === undefined || withFallback.length === 0) continue;
    // Messages were inserted in list order: their ids follow the same order.
    const ids = (await trx('flow_messages').where({ subflow_id: self }).orderBy('id').pluck('id')) as number[];
    for (const { index, fallback } of withFallback) {
      const id = ids[index];
      if (id !== undefined) await trx('flow_messages').where({ id }).update({ fallback_subflow_id: fallback });
    }
  }
}
