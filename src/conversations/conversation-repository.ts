import type { Knex } from 'knex';

type Trx = Knex.Transaction;

export interface InboxRow {
  id: number;
  contact_id: number;
  ticket_id: number | null;
  body: string;
  media_type: string;
  media_url: string | null;
  media_path: string | null;
  contact_name: string | null;
  contact_number: string | null;
}

export interface ConversationRow {
  id: number;
  contact_id: number;
  flow_id: number;
  flow_version_id: number;
  conversation_state: unknown;
  variables: Record<string, string>;
  last_activity_at: Date;
  /** Set while a human agent has taken over: the bot stays silent and the conversation does not move. */
  bot_paused_at: Date | null;
}

export interface OutboundRow {
  conversation_id: number;
  contact_id: number;
  ticket_id: number | null;
  contact_name: string | null;
  contact_number: string | null;
  body: string;
  flow_message_id: number;
  reason: string;
  due_at: Date;
}

export interface ReceivedFileRow {
  conversation_id: number;
  message_history_id: number;
  contact_id: number;
  flow_message_id: number;
  file_name: string;
  file_type: string;
  mime_type: string | null;
  media_url: string | null;
  media_path: string | null;
}

export interface ConversationProgress {
  conversation_state: unknown;
  current_subflow_id: number | null;
  current_message_id: number | null;
  variables: Record<string, string>;
  contact_name: string | null;
  contact_number: string | null;
  ticket_id: number | null;
}

export function selectInbox(trx: Trx, contactId: number): Promise<InboxRow[]> {
  return trx('message_history')
    .where({ contact_id: contactId, direction: 'inbound', status: 'received' })
    .orderBy('id')
    .forUpdate()
    .select(
      'id',
      'contact_id',
      'ticket_id',
      'body',
      'media_type',
      'media_url',
      'media_path',
      'contact_name',
      'contact_number',
    ) as Promise<InboxRow[]>;
}

/** The latest due time of a reply still waiting to go out after `now`, if any. */
export async function lastFuturePendingDue(trx: Trx, contactId: number, now: Date): Promise<Date | undefined> {
  const row = (await trx('message_history')
    .where({ contact_id: contactId, direction: 'outbound', status: 'pending' })
    .andWhere('due_at', '>', now)
    .max({ due: 'due_at' })
    .first()) as { due: Date | null } | undefined;
  return row?.due ?? undefined;
}

/** When the contact's last reply went (or is due to go) out; the cooldown counts from there. */
export async function lastOutboundTime(trx: Trx, contactId: number): Promise<Date | undefined> {
  const row = (await trx('message_history')
    .where({ contact_id: contactId, direction: 'outbound' })
    .orderBy('id', 'desc')
    .first(trx.raw('coalesce(sent_at, due_at, created_at) AS at'))) as { at: Date } | undefined;
  return row?.at;
}

export function findActiveConversation(trx: Trx, contactId: number): Promise<ConversationRow | undefined> {
  return trx('user_conversations')
    .where({ contact_id: contactId, is_active: true })
    .forUpdate()
    .first(
      'id',
      'contact_id',
      'flow_id',
      'flow_version_id',
      'conversation_state',
      'variables',
      'last_activity_at',
      'bot_paused_at',
    ) as Promise<ConversationRow | undefined>;
}

export async function closeConversation(trx: Trx, conversationId: number, reason: string): Promise<void> {
  await trx('user_conversations')
    .where({ id: conversationId })
    .update({ is_active: false, closed_reason: reason, updated_at: trx.fn.now() });
}

export async function insertConversation(
  trx: Trx,
  row: ConversationProgress & { contact_id: number; flow_id: number; flow_version_id: number },
): Promise<number> {
  const [inserted] = (await trx('user_conversations')
    .insert({
      ...row,
      conversation_state: JSON.stringify(row.conversation_state),
      variables: JSON.stringify(row.variables),
    })
    .returning('id')) as Array<{ id: number }>;
  if (!inserted) throw new Error('conversation insert returned no id');
  return inserted.id;
}

export async function saveProgress(
  trx: Trx,
  conversationId: number,
  progress: ConversationProgress,
  completed: boolean,
): Promise<void> {
  // A batch without contact details must not erase the ones GOSAC sent earlier.
  const known = Object.fromEntries(
    (['contact_name', 'contact_number', 'ticket_id'] as const)
      .filter((key) => progress[key] !== null)
      .map((key) => [key, progress[key]]),
  );
  await trx('user_conversations')
    .where({ id: conversationId })
    .update({
      conversation_state: JSON.stringify(progress.conversation_state),
      current_subflow_id: progress.current_subflow_id,
      current_message_id: progress.current_message_id,
      ...known,
      variables: JSON.stringify(progress.variables),
      last_activity_at: trx.fn.now(),
      updated_at: trx.fn.now(),
      ...(completed
        ? { is_active: false, is_completed: true, closed_reason: 'completed', completed_at: trx.fn.now() }
        : {}),
    });
}

/** The contact wrote to a conversation the bot is not answering (paused): only its activity time moves. */
export async function touchConversation(trx: Trx, conversationId: number): Promise<void> {
  await trx('user_conversations')
    .where({ id: conversationId })
    .update({ last_activity_at: trx.fn.now(), updated_at: trx.fn.now() });
}

export async function markProcessed(trx: Trx, ids: readonly number[], conversationId: number): Promise<void> {
  if (ids.length === 0) return;
  await trx('message_history')
    .whereIn('id', ids)
    .update({ status: 'processed', conversation_id: conversationId, processed_at: trx.fn.now() });
}

export async function insertOutbound(trx: Trx, rows: readonly OutboundRow[]): Promise<void> {
  if (rows.length === 0) return;
  await trx('message_history').insert(
    rows.map((row) => ({ ...row, direction: 'outbound', media_type: 'text', status: 'pending' })),
  );
}

export async function insertReceivedFile(trx: Trx, row: ReceivedFileRow): Promise<void> {
  await trx('received_files').insert(row);
}

export async function logActivity(
  trx: Trx,
  entry: { conversationId: number | null; contactId: number; action: string; details?: Record<string, unknown> },
): Promise<void> {
  await trx('activity_logs').insert({
    conversation_id: entry.conversationId,
    contact_id: entry.contactId,
    actor: 'bot',
    action: entry.action,
    details: entry.details ? JSON.stringify(entry.details) : null,
  });
}
