import type { Knex } from 'knex';
import type { Database } from '../db/knex.js';
import { NotFoundError } from '../shared/errors.js';
import type { ConversationListQuery, ConversationStatusFilter } from './conversation-admin-schemas.js';

// Read-only views of conversations for the admin front end. The persisted machine snapshot is
// only in the single-conversation view: it is large and the list does not need it.
// Rows carry the field names the front end reads (SPEC §5, the earlier service's columns:
// current_flow_id, last_interaction, message_text, is_from_bot, ...) next to this service's own
// (flow_id, last_activity_at, body, direction, ...), which older callers use.

const summaryColumns = [
  'c.id',
  'c.contact_id',
  'c.contact_name',
  'c.contact_number',
  'c.ticket_id',
  'c.flow_id',
  'c.flow_id as current_flow_id',
  'c.flow_version_id',
  'c.current_subflow_id',
  'c.current_message_id',
  'c.variables',
  'c.is_active',
  'c.is_completed',
  'c.closed_reason',
  'c.bot_paused_at',
  'c.started_at',
  'c.last_activity_at',
  'c.last_activity_at as last_interaction',
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
  'conversation_id',
  'contact_id',
  'ticket_id',
  'body as message_text',
  'media_type as message_type',
  'media_url',
  'media_path',
  'flow_message_id',
  'created_at',
  'direction',
  'body',
  'media_type',
  'status',
  'due_at',
  'sent_at',
  'reason',
];

export interface ConversationPage {
  readonly rows: Record<string, unknown>[];
  /** Every conversation matching the filters, for pagination (X-Total-Count). */
  readonly total: number;
}

export interface ConversationQueries {
  list(query: ConversationListQuery): Promise<ConversationPage>;
  get(id: number): Promise<Record<string, unknown>>;
  history(id: number): Promise<Record<string, unknown>[]>;
}

function whereStatus(query: Knex.QueryBuilder, status: ConversationStatusFilter): void {
  switch (status) {
    case 'active':
      query.where('c.is_active', true);
      break;
    case 'paused':
      query.where('c.is_active', true).whereNotNull('c.bot_paused_at');
      break;
    case 'completed':
      query.where('c.is_completed', true);
      break;
    case 'closed':
      query.where({ 'c.is_active': false, 'c.is_completed': false });
      break;
    case 'all':
      break;
  }
}

export function createConversationQueries(deps: { readonly db: Database }): ConversationQueries {
  const { db } = deps;
  const base = () =>
    db('user_conversations as c')
      .leftJoin('flows as f', 'f.id', 'c.flow_id')
      .leftJoin('flow_templates as t', 't.id', 'f.template_id')
      .leftJoin('subflows as s', 's.id', 'c.current_subflow_id')
      .leftJoin('flow_messages as m', 'm.id', 'c.current_message_id');
  const summary = () => [...summaryColumns, db.raw('(c.bot_paused_at IS NOT NULL) AS bot_paused')];

  return {
    async list(query) {
      const filtered = db('user_conversations as c');
      whereStatus(filtered, query.status);
      if (query.contact_id !== undefined) filtered.where('c.contact_id', query.contact_id);
      if (query.flow_id !== undefined) filtered.where('c.flow_id', query.flow_id);

      const [counted, rows] = await Promise.all([
        filtered.clone().count<Array<{ total: string }>>({ total: '*' }),
        // The page is chosen on the bare table, then joined: the joins only decorate 50-odd rows.
        base()
          .select(summary())
          .whereIn(
            'c.id',
            filtered
              .clone()
              .select('c.id')
              .orderBy([{ column: 'c.last_activity_at', order: 'desc' }, { column: 'c.id', order: 'desc' }])
              .limit(query.limit)
              .offset(query.offset),
          )
          .orderBy([{ column: 'c.last_activity_at', order: 'desc' }, { column: 'c.id', order: 'desc' }]),
      ]);
      return { rows, total: Number(counted[0]?.total ?? 0) };
    },

    async get(id) {
      const row = (await base()
        .select([...summary(), 'c.conversation_state'])
        .where('c.id', id)
        .first()) as Record<string, unknown> | undefined;
      if (!row) throw new NotFoundError(`conversation ${id} not found`);
      return row;
    },

    async history(id) {
      const exists = await db('user_conversations').where({ id }).first('id');
      if (!exists) throw new NotFoundError(`conversation ${id} not found`);
      return db('message_history')
        .select([...historyColumns, db.raw("(direction = 'outbound') AS is_from_bot")])
        .where({ conversation_id: id })
        .orderBy([{ column: 'created_at' }, { column: 'id' }]);
    },
  };
}
