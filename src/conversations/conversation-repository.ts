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

export interface ProcessState {
  inbox: InboxRow[];
  /** The latest due time of a reply still waiting to go out after `now`, if any. */
  busyUntil: Date | undefined;
  existing: ConversationRow | undefined;
  /** When the contact's last reply went (or is due to go) out. */
  lastOutbound: Date | undefined;
  /**
   * True when asked for, no earlier reply of the contact is pending and this connection now holds
   * the contact's delivery lock at session level (it outlives the COMMIT: the caller must release
   * it with `pg_advisory_unlock`, also when the transaction fails): the replies of this step may
   * then be sent right after the commit, first in line.
   */
  deliveryFree: boolean;
}

// One round trip for everything `process` reads once the process lock is held (the lock itself
// stays a statement of its own: a statement's snapshot is taken before it could wait for the
// lock, and would miss what the previous holder committed). The delivery lock is only tried
// (never waited for), only when asked ($3) and only when nothing of the contact is pending.
const PROCESS_STATE_SQL = `
WITH inbox AS (
  SELECT id, contact_id, ticket_id, body, media_type, media_url, media_path, contact_name, contact_number
    FROM message_history
   WHERE contact_id = $1 AND direction = 'inbound' AND status = 'received'
   ORDER BY id
     FOR UPDATE
), conversation AS (
  SELECT id, contact_id, flow_id, flow_version_id, conversation_state, variables, last_activity_at, bot_paused_at
    FROM user_conversations
   WHERE contact_id = $1 AND is_active = true
   LIMIT 1
     FOR UPDATE
), pending AS (
  SELECT max(due_at) FILTER (WHERE due_at > $2) AS busy_until, count(*) AS n
    FROM message_history
   WHERE contact_id = $1 AND direction = 'outbound' AND status = 'pending'
)
SELECT (SELECT coalesce(json_agg(inbox ORDER BY id), '[]'::json) FROM inbox) AS inbox,
       (SELECT row_to_json(conversation) FROM conversation) AS conversation,
       pending.busy_until,
       (SELECT coalesce(sent_at, due_at, created_at) FROM message_history
         WHERE contact_id = $1 AND direction = 'outbound' ORDER BY id DESC LIMIT 1) AS last_outbound,
       CASE WHEN $3 AND pending.n = 0 AND EXISTS (SELECT 1 FROM inbox)
            THEN pg_try_advisory_lock(hashtextextended('deliver:' || $1::text, 0))
            ELSE false END AS delivery_free
  FROM pending`;

export async function readProcessState(
  trx: Trx,
  contactId: number,
  now: Date,
  tryDeliveryLock: boolean,
): Promise<ProcessState> {
  const result = (await trx.raw(PROCESS_STATE_SQL_KNEX, bindingsFor(PROCESS_STATE_SQL, { $1: contactId, $2: now, $3: tryDeliveryLock }))) as {
    rows: Array<{
      inbox: InboxRow[];
      conversation: (Omit<ConversationRow, 'last_activity_at' | 'bot_paused_at'> & { last_activity_at: string; bot_paused_at: string | null }) | null;
      busy_until: Date | null;
      last_outbound: Date | null;
      delivery_free: boolean;
    }>;
  };
  const row = result.rows[0];
  if (!row) throw new Error('process state query returned no row');
  const conversation = row.conversation;
  return {
    inbox: row.inbox,
    busyUntil: row.busy_until ?? undefined,
    existing: conversation
      ? {
          ...conversation,
          last_activity_at: new Date(conversation.last_activity_at),
          bot_paused_at: conversation.bot_paused_at === null ? null : new Date(conversation.bot_paused_at),
        }
      : undefined,
    lastOutbound: row.last_outbound ?? undefined,
    deliveryFree: row.delivery_free,
  };
}

const PROCESS_STATE_SQL_KNEX = PROCESS_STATE_SQL.replace(/\$1\b/g, '?::bigint').replace(/\$2\b/g, '?::timestamptz').replace(/\$3\b/g, '?::boolean');

/** The delivery lock `readProcessState` took at session level. */
export const DELIVERY_SESSION_LOCK_KEY = "hashtextextended('deliver:' || $1::text, 0)";

/** knex binds `?` positionally: repeat each value in the order its `$n` placeholder appears. */
function bindingsFor(sql: string, values: Record<string, Knex.Value>): Knex.Value[] {
  return [...sql.matchAll(/\$\d+/g)].map((match) => values[match[0]] ?? null);
}

export interface UnsavedProgress {
  conversationId: number;
  progress: ConversationProgress;
  completed: boolean;
  /** Inbox rows consumed by the steps of this progress, marked processed with it. */
  rowIds: number[];
}

// The end of a step in one statement: inbox rows processed, the snapshot saved (contact details
// only overwritten when this batch has them), the outbox rows inserted; returns their ids in order.
const WRITE_STEP_SQL = `
WITH processed AS (
  UPDATE message_history SET status = 'processed', conversation_id = ?::bigint, processed_at = now()
   WHERE id = ANY(?::bigint[]) AND ?::boolean
), progress AS (
  UPDATE user_conversations
     SET conversation_state = ?::jsonb,
         current_subflow_id = ?::integer,
         current_message_id = ?::integer,
         contact_name = coalesce(?::text, contact_name),
         contact_number = coalesce(?::text, contact_number),
         ticket_id = coalesce(?::bigint, ticket_id),
         variables = ?::jsonb,
         last_activity_at = now(),
         updated_at = now(),
         is_active = CASE WHEN ?::boolean THEN false ELSE is_active END,
         is_completed = CASE WHEN ?::boolean THEN true ELSE is_completed END,
         closed_reason = CASE WHEN ?::boolean THEN 'completed' ELSE closed_reason END,
         completed_at = CASE WHEN ?::boolean THEN now() ELSE completed_at END
   WHERE id = ?::bigint AND ?::boolean
), outbox AS (
  INSERT INTO message_history
         (conversation_id, contact_id, ticket_id, contact_name, contact_number, body, flow_message_id, reason, due_at,
          direction, media_type, status)
  SELECT r.conversation_id, r.contact_id, r.ticket_id, r.contact_name, r.contact_number, r.body, r.flow_message_id,
         r.reason, r.due_at, 'outbound', 'text', 'pending'
    FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::integer[], ?::text[], ?::timestamptz[])
         WITH ORDINALITY AS r(conversation_id, contact_id, ticket_id, contact_name, contact_number, body, flow_message_id, reason, due_at, n)
   ORDER BY n
  RETURNING id
)
SELECT coalesce(array_agg(id ORDER BY id), '{}') AS ids FROM outbox`;

/** Saves `unsaved` (when given) and inserts the outbox rows; returns their ids in order. */
export async function writeStep(trx: Trx, unsaved: UnsavedProgress | null, rows: readonly OutboundRow[]): Promise<number[]> {
  const p = unsaved?.progress;
  const done = unsaved?.completed ?? false;
  const result = (await trx.raw(WRITE_STEP_SQL, [
    unsaved?.conversationId ?? 0,
    unsaved?.rowIds ?? [],
    unsaved !== null && unsaved.rowIds.length > 0,
    JSON.stringify(p?.conversation_state ?? null),
    p?.current_subflow_id ?? null,
    p?.current_message_id ?? null,
    p?.contact_name ?? null,
    p?.contact_number ?? null,
    p?.ticket_id ?? null,
    JSON.stringify(p?.variables ?? {}),
    done,
    done,
    done,
    done,
    unsaved?.conversationId ?? 0,
    unsaved !== null,
    rows.map((row) => row.conversation_id),
    rows.map((row) => row.contact_id),
    rows.map((row) => row.ticket_id),
    rows.map((row) => row.contact_name),
    rows.map((row) => row.contact_number),
    rows.map((row) => row.body),
    rows.map((row) => row.flow_message_id),
    rows.map((row) => row.reason),
    rows.map((row) => row.due_at),
  ] as unknown as Knex.Value[])) as { rows: Array<{ ids: number[] }> };
  return result.rows[0]?.ids ?? [];
}
