import type { Knex } from 'knex';

// Writes the admin API makes to one conversation. The snapshot is left out of the rows read here:
// admin actions never touch where the machine stands, and activity_logs need no copy of it.

type Runner = Knex | Knex.Transaction;

export interface ConversationControlRow {
  id: number;
  contact_id: number;
  flow_id: number;
  flow_version_id: number;
  current_subflow_id: number | null;
  current_message_id: number | null;
  is_active: boolean;
  is_completed: boolean;
  closed_reason: string | null;
  bot_paused_at: Date | null;
  last_activity_at: Date;
}

const controlColumns = [
  'id',
  'contact_id',
  'flow_id',
  'flow_version_id',
  'current_subflow_id',
  'current_message_id',
  'is_active',
  'is_completed',
  'closed_reason',
  'bot_paused_at',
  'last_activity_at',
];

export async function findConversation(db: Runner, id: number, lock = false): Promise<ConversationControlRow | undefined> {
  const query = db('user_conversations').where({ id }).first(controlColumns);
  if (lock) query.forUpdate();
  return (await query) as ConversationControlRow | undefined;
}

export async function updateConversation(
  db: Runner,
  id: number,
  values: Record<string, unknown>,
): Promise<ConversationControlRow> {
  const [row] = (await db('user_conversations')
    .where({ id })
    .update({ ...values, updated_at: db.fn.now() })
    .returning(controlColumns)) as ConversationControlRow[];
  if (!row) throw new Error(`conversation ${id} vanished during an update`);
  return row;
}

export async function logConversationChange(
  db: Runner,
  entry: { action: string; before: ConversationControlRow; after: ConversationControlRow; cancelledReplies: number },
): Promise<void> {
  await db('activity_logs').insert({
    conversation_id: entry.before.id,
    contact_id: entry.before.contact_id,
    actor: 'admin',
    action: entry.action,
    details: entry.cancelledReplies > 0 ? JSON.stringify({ cancelled_replies: entry.cancelledReplies }) : null,
    before: JSON.stringify(entry.before),
    after: JSON.stringify(entry.after),
  });
}

/**
 * Cancels the contact's replies that are still waiting to go out. One already handed to GOSAC (its
 * send lease is running) cannot be called back and is left to finish.
 */
export async function cancelPendingReplies(db: Runner, contactId: number, because: string): Promise<number> {
  const result = (await db.raw(
    `UPDATE message_history SET status = 'cancelled', last_error = :because
      WHERE contact_id = :contactId AND status = 'pending' AND (claimed_until IS NULL OR claimed_until <= now())`,
    { contactId, because },
  )) as { rowCount: number | null };
  return result.rowCount ?? 0;
}
