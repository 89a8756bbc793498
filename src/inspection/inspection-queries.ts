// What viewers read from the database: the active conversations a viewer asked for (with their
// pinned version's machine config, for @xstate.actor) and the labels the /inspect page draws.
import type { Database } from '../db/knex.js';

export interface ConversationFilter {
  readonly conversation?: number | undefined;
  readonly contact?: number | undefined;
  readonly flow?: number | undefined;
}

/** A late joiner is sent at most this many conversations, the most recently active first. */
export const MAX_INITIAL_CONVERSATIONS = 500;

export interface WatchedConversation {
  id: number;
  contact_id: number;
  flow_id: number;
  flow_version_id: number;
  conversation_state: unknown;
  machine_config: unknown;
}

function filtered(db: Database, filter: ConversationFilter) {
  const query = db('user_conversations as c').where('c.is_active', true);
  if (filter.conversation !== undefined) query.andWhere('c.id', filter.conversation);
  if (filter.contact !== undefined) query.andWhere('c.contact_id', filter.contact);
  if (filter.flow !== undefined) query.andWhere('c.flow_id', filter.flow);
  return query;
}

export async function watchedConversations(db: Database, filter: ConversationFilter): Promise<WatchedConversation[]> {
  const rows = (await filtered(db, filter)
    .join('flow_versions as v', 'v.id', 'c.flow_version_id')
    .orderBy('c.last_activity_at', 'desc')
    .limit(MAX_INITIAL_CONVERSATIONS)
    .select('c.id', 'c.contact_id', 'c.flow_id', 'c.flow_version_id', 'c.conversation_state', 'v.machine_config')) as WatchedConversation[];
  return rows.map((row) => ({ ...row, id: Number(row.id), contact_id: Number(row.contact_id), flow_version_id: Number(row.flow_version_id) }));
}

export interface ListedConversation {
  id: number;
  contact_id: number;
  contact_number: string | null;
  flow_id: number;
  flow_name: string | null;
  flow_version_id: number;
  value: unknown;
  status: string | null;
  bot_paused: boolean;
  last_activity_at: string;
}

/** The page's list (numbers masked by the caller). */
export async function listConversations(db: Database, filter: ConversationFilter, limit: number): Promise<ListedConversation[]> {
  const rows = (await filtered(db, filter)
    .leftJoin('flows as f', 'f.id', 'c.flow_id')
    .orderBy('c.last_activity_at', 'desc')
    .limit(limit)
    .select(
      'c.id',
      'c.contact_id',
      'c.contact_number',
      'c.flow_id',
      'f.name as flow_name',
      'c.flow_version_id',
      db.raw("c.conversation_state -> 'value' AS value"),
      db.raw("c.conversation_state ->> 'status' AS status"),
      db.raw('c.bot_paused_at IS NOT NULL AS bot_paused'),
      'c.last_activity_at',
    )) as ListedConversation[];
  return rows.map((row) => ({ ...row, id: Number(row.id), contact_id: Number(row.contact_id), flow_version_id: Number(row.flow_version_id) }));
}

export interface FlowVersionView {
  id: number;
  flow_id: number;
  name: string;
  machine_config: unknown;
  subflows: Array<{ id: number; name: string; keywords: string[]; parent_subflow_id: number | null }>;
}

/** A flow version's machine config and the names and keywords its config refers to by id. */
export async function flowVersionView(db: Database, versionId: number): Promise<FlowVersionView | undefined> {
  const row = (await db('flow_versions').where({ id: versionId }).first('id', 'flow_id', 'definition', 'machine_config')) as
    | { id: number; flow_id: number; definition: { name?: string; subflows?: Array<Record<string, unknown>> }; machine_config: unknown }
    | undefined;
  if (!row) return undefined;
  const subflows = (row.definition.subflows ?? []).map((subflow) => ({
    id: Number(subflow.id),
    name: String(subflow.name ?? ''),
    keywords: Array.isArray(subflow.triggerKeywords) ? subflow.triggerKeywords.map(String).filter((keyword) => keyword.trim() !== '') : [],
    parent_subflow_id: typeof subflow.parentSubflowId === 'number' ? subflow.parentSubflowId : null,
  }));
  return { id: Number(row.id), flow_id: row.flow_id, name: row.definition.name ?? '', machine_config: row.machine_config, subflows };
}
