import type { Database } from '../db/knex.js';
import { NotFoundError } from '../shared/errors.js';

// Read-only views of conversations for the admin front end. The persisted machine snapshot is
// only in the single-conversation view: it is large and the list does not need it.

const summaryColumns = [
  'c.id',
  'c.contact_id',
  'c.contact_name',
  'c.contact_number',
  'c.ticket_id',
  'c.flow_id',
  'c.flow_version_id',
  'c.current_subflow_id',
  'c.current_message_id',
  'c.variables',
  'c.is_active',
  'c.is_completed',
  'c.closed_reason',
  'c.started_at',
  'c.last_activity_at',
  'c.completed_at',
  'c.updated_at',
  'f.template_id',
  't.name as template_name',
  'f.name as flow_name',
  's.name as subflow_name',
  'm.message_text as current_message',
];

const historyColumns = [
  'id',
  'direction',
  'body',
  'media_type',
  'media_url',
  'status',
  'created_at',
  'sent_at',
  'reason',
];

export interface ConversationQueries {
  listRecentActive(limit?: number): Promise<Record<string, unknown>[]>;
  get(id: number): Promise<Record<string, unknown>>;
  history(id: number): Promise<Record<string, unknown>[]>;
}

export function createConversationQueries(deps: { readonly db: Database }): ConversationQueries {
  const { db } = deps;
  const base = () =>
    db('user_conversations as c')
      .leftJoin('flows as f', 'f.id', 'c.flow_id')
      .leftJoin('flow_templates as t', 't.id', 'f.template_id')
      .leftJoin('subflows as s', 's.id', 'c.current_subflow_id')
      .leftJoin('flow_messages as m', 'm.id', 'c.current_message_id');

  return {
    async listRecentActive(limit = 50) {
      return base()
        .select(summaryColumns)
        .where('c.is_active', true)
        .orderBy([{ column: 'c.last_activity_at', order: 'desc' }, { column: 'c.id', order: 'desc' }])
        .limit(limit);
    },

    async get(id) {
      const row = (await base()
        .select([...summaryColumns, 'c.conversation_state'])
        .where('c.id', id)
        .first()) as Record<string, unknown> | undefined;
      if (!row) throw new NotFoundError(`conversation ${id} not found`);
      return row;
    },

    async history(id) {
      const exists = await db('user_conversations').where({ id }).first('id');
      if (!exists) throw new NotFoundError(`conversation ${id} not found`);
      return db('message_history')
        .select(historyColumns)
        .where({ conversation_id: id })
        .orderBy([{ column: 'created_at' }, { column: 'id' }]);
    },
  };
}
