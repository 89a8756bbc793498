import type { Knex } from 'knex';

// Queries over the four flow tables for the admin API. Every function takes the connection or
// transaction to run on, so the service decides what happens atomically.

export type Queryable = Knex;
export type FlowTable = 'flow_templates' | 'flows' | 'subflows' | 'flow_messages';
type Row = Record<string, unknown> & { id: number };

export interface TemplateRow extends Row {
  name: string;
  description: string | null;
  created_by: string | null;
  is_active: boolean;
}

export interface FlowRow extends Row {
  template_id: number;
  name: string;
  description: string | null;
  is_default: boolean;
  is_active: boolean;
  order_index: number;
}

export interface SubflowRow extends Row {
  flow_id: number;
  name: string;
  description: string | null;
  parent_subflow_id: number | null;
  trigger_keywords: string[];
  order_index: number;
  is_active: boolean;
}

export interface MessageRow extends Row {
  subflow_id: number;
  message_text: string;
  message_type: string;
  order_index: number;
  wait_for_response: boolean;
  wait_for_file: boolean;
  expected_file_types: string[];
  delay_seconds: number;
  save_response_as: string | null;
  actions: unknown[];
  is_active: boolean;
}

export interface RowsByTable {
  flow_templates: TemplateRow;
  flows: FlowRow;
  subflows: SubflowRow;
  flow_messages: MessageRow;
}

/**
 * An active row by id. `lock` takes a row lock for the rest of the transaction: 'share' for a
 * parent a new child is attached to (so it cannot be deleted meanwhile), 'update' for a row
 * about to change.
 */
export async function findActive<T extends FlowTable>(
  db: Queryable,
  table: T,
  id: number,
  lock?: 'share' | 'update',
): Promise<RowsByTable[T] | undefined> {
  const query = db(table).where({ id, is_active: true }).first();
  if (lock === 'share') query.forShare();
  if (lock === 'update') query.forUpdate();
  return (await query) as RowsByTable[T] | undefined;
}

/** jsonb columns holding arrays: pg would send a JS array as a PostgreSQL array, so send JSON. */
export function withJsonColumns(values: Record<string, unknown>): Record<string, unknown> {
  return Array.isArray(values['actions']) ? { ...values, actions: JSON.stringify(values['actions']) } : values;
}

export async function insertRow<T extends FlowTable>(
  db: Queryable,
  table: T,
  values: Record<string, unknown>,
): Promise<RowsByTable[T]> {
  const [row] = await db(table).insert(withJsonColumns(values)).returning('*');
  return row as RowsByTable[T];
}

export async function updateRow<T extends FlowTable>(
  db: Queryable,
  table: T,
  id: number,
  values: Record<string, unknown>,
): Promise<RowsByTable[T]> {
  const [row] = await db(table)
    .where({ id })
    .update({ ...withJsonColumns(values), updated_at: db.fn.now() })
    .returning('*');
  return row as RowsByTable[T];
}

export async function listActiveTemplates(db: Queryable): Promise<TemplateRow[]> {
  return (await db('flow_templates as t')
    .select(
      't.*',
      db.raw('(SELECT count(*)::int FROM flows f WHERE f.template_id = t.id AND f.is_active) AS flows_count'),
    )
    .where('t.is_active', true)
    .orderBy('t.id')) as TemplateRow[];
}

export async function listActiveFlows(db: Queryable, templateId: number): Promise<FlowRow[]> {
  return (await db('flows as f')
    .select(
      'f.*',
      db.raw('(SELECT count(*)::int FROM subflows s WHERE s.flow_id = f.id AND s.is_active) AS subflows_count'),
    )
    .where({ 'f.template_id': templateId, 'f.is_active': true })
    .orderBy([{ column: 'f.order_index' }, { column: 'f.id' }])) as FlowRow[];
}

export async function listActiveSubflows(db: Queryable, flowId: number): Promise<SubflowRow[]> {
  return (await db('subflows as s')
    .select(
      's.*',
      db.raw('(SELECT count(*)::int FROM flow_messages m WHERE m.subflow_id = s.id AND m.is_active) AS messages_count'),
    )
    .where({ 's.flow_id': flowId, 's.is_active': true })
    .orderBy([{ column: 's.order_index' }, { column: 's.id' }])) as SubflowRow[];
}

export async function listActiveMessages(db: Queryable, subflowId: number): Promise<MessageRow[]> {
  return (await db('flow_messages')
    .where({ subflow_id: subflowId, is_active: true })
    .orderBy([{ column: 'order_index' }, { column: 'id' }])) as MessageRow[];
}

export type ChildTable = 'flows' | 'subflows' | 'flow_messages';
export const parentColumns: Record<ChildTable, string> = {
  flows: 'template_id',
  subflows: 'flow_id',
  flow_messages: 'subflow_id',
};

/** Ids of a parent's active children in their current order, locked for the rest of the transaction. */
export async function activeChildIdsInOrder(db: Queryable, table: ChildTable, parentId: number): Promise<number[]> {
  return db(table)
    .where({ [parentColumns[table]]: parentId, is_active: true })
    .orderBy([{ column: 'order_index' }, { column: 'id' }])
    .forUpdate()
    .pluck('id');
}

/** order_index = position in `ids` (0, 1, 2...), in one statement. */
export async function setOrder(db: Queryable, table: ChildTable, ids: readonly number[]): Promise<void> {
  await db.raw(
    `UPDATE ?? AS t SET order_index = o.ord - 1, updated_at = now()
     FROM unnest(?::int[]) WITH ORDINALITY AS o(id, ord) WHERE t.id = o.id`,
    [table, [...ids]],
  );
}

/** Active flows of a template, locked: deleting the template deactivates them too. */
export async function activeFlowsOfTemplate(db: Queryable, templateId: number): Promise<FlowRow[]> {
  return (await db('flows').where({ template_id: templateId, is_active: true }).orderBy('id').forUpdate()) as FlowRow[];
}

/** Takes the default from every other active flow; the caller then sets its own. */
export async function clearOtherDefaults(db: Queryable, exceptFlowId: number | undefined): Promise<FlowRow[]> {
  const query = db('flows').where({ is_default: true, is_active: true });
  if (exceptFlowId !== undefined) query.whereNot({ id: exceptFlowId });
  return (await query.update({ is_default: false, updated_at: db.fn.now() }).returning('*')) as FlowRow[];
}

export async function activeChildSubflowIds(db: Queryable, subflowId: number): Promise<number[]> {
  return db('subflows').where({ parent_subflow_id: subflowId, is_active: true }).orderBy('id').pluck('id');
}

/** Ids from `subflowId` up through its parents (active or not), stopping at a repeat. */
export async function subflowAncestry(db: Queryable, subflowId: number): Promise<number[]> {
  const result = await db.raw<{ rows: Array<{ id: number }> }>(
    `WITH RECURSIVE chain(id, parent, depth) AS (
       SELECT id, parent_subflow_id, 0 FROM subflows WHERE id = ?
       UNION ALL
       SELECT s.id, s.parent_subflow_id, c.depth + 1 FROM subflows s JOIN chain c ON s.id = c.parent
       WHERE c.depth < 1000
     ) SELECT id FROM chain ORDER BY depth`,
    [subflowId],
  );
  return result.rows.map((row) => row.id);
}

export interface ActivityEntry {
  action: string;
  details?: Record<string, unknown>;
  before?: unknown;
  after?: unknown;
}

export async function insertActivity(db: Queryable, actor: string, entry: ActivityEntry): Promise<void> {
  // JSON is serialized here: node-postgres would turn a top-level array into a PostgreSQL array.
  const json = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));
  await db('activity_logs').insert({
    actor,
    action: entry.action,
    details: json(entry.details),
    before: json(entry.before),
    after: json(entry.after),
  });
}

/** PostgreSQL's unique_violation, optionally on one named constraint or index. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; constraint?: unknown };
  return e.code === '23505' && (constraint === undefined || e.constraint === constraint);
}
