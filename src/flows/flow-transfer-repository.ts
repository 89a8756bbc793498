import type { Knex } from 'knex';
import type { FlowRow, MessageRow, SubflowRow, TemplateRow } from './flow-admin-repository.js';

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

export async function insertReturningId(db: Runner, table: string, values: Record<string, unknown>): Promise<number> {
  const [row] = (await db(table).insert(values).returning('id')) as Array<{ id: number }>;
  if (!row) throw new Error(`${table} insert returned no id`);
  return row.id;
}

export async function insertMessages(db: Runner, rows: ReadonlyArray<Record<string, unknown>>): Promise<number> {
  if (rows.length === 0) return 0;
  await db('flow_messages').insert(rows);
  return rows.length;
}

export async function setParentSubflow(db: Runner, subflowId: number, parentId: number): Promise<void> {
  await db('subflows').where({ id: subflowId }).update({ parent_subflow_id: parentId });
}
