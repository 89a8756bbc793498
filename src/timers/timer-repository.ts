import type { Knex } from 'knex';
import type { StepWrites } from '../effects/step-writes.js';
import { contactLockKeySql } from '../conversations/contact-lock.js';

// The statements of durable timers (ADR 0007). Every one is set-based: a batch of steps writes
// its timers with one statement, the timer stage claims and settles a batch with one each.

type Trx = Knex.Transaction;
type Runner = Knex | Knex.Transaction;

// Cancels what the steps dropped (an `xstate.cancel`, every machine timer of a conversation the
// step paused, every timer of a conversation the batch ended), pauses hand-offs and stores the new
// timers. No NOTIFY (wake-channels.ts: a notifying commit is serialised): a new timer is due no
// sooner than its delay, and the timer stages look at the next due time at least every
// WORKER_POLL_INTERVAL_MS.
const WRITE_TIMERS_SQL = `
WITH cancelled AS (
  UPDATE conversation_timers t SET status = 'cancelled', outcome = 'cancelled by a step', finished_at = now()
    FROM unnest(:cConversation::bigint[], :cSendId::text[]) AS c(conversation_id, send_id)
   WHERE t.conversation_id = c.conversation_id AND t.status = 'pending'
     AND ((c.send_id IS NULL AND t.kind = 'machine') OR t.send_id = c.send_id)
), ended AS (
  UPDATE conversation_timers SET status = 'cancelled', outcome = 'conversation ended', finished_at = now()
   WHERE conversation_id = ANY(:ended::bigint[]) AND status = 'pending'
), paused AS (
  UPDATE user_conversations SET bot_paused_at = now(), updated_at = now()
   WHERE id = ANY(:paused::bigint[]) AND is_active AND bot_paused_at IS NULL
), inserted AS (
  INSERT INTO conversation_timers (conversation_id, contact_id, kind, send_id, event, due_at)
  SELECT * FROM unnest(:tConversation::bigint[], :tContact::bigint[], :tKind::text[], :tSendId::text[],
                       :tEvent::jsonb[], :tDue::timestamptz[])
  RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) AS inserted`;

/**
 * The timer part of a batch's write (called by the step engine's `writeBatch` once conversation
 * ids are known). `ended`: conversations the batch closed, whose timers all go.
 */
export async function writeTimerEffects(trx: Trx, writes: StepWrites, ended: readonly number[]): Promise<void> {
  if (writes.timers.length === 0 && writes.timerCancels.length === 0 && writes.handoffs.length === 0 && ended.length === 0) return;
  const col = <T, V>(rows: readonly T[], pick: (row: T) => V) => rows.map(pick) as unknown as Knex.Value;
  await trx.raw(WRITE_TIMERS_SQL, {
    cConversation: col(writes.timerCancels, (c) => c.conversation.id),
    cSendId: col(writes.timerCancels, (c) => c.sendId),
    ended: ended as unknown as Knex.Value,
    paused: col(writes.handoffs, (ref) => ref.id),
    tConversation: col(writes.timers, (t) => t.conversation.id),
    tContact: col(writes.timers, (t) => t.contactId),
    tKind: col(writes.timers, (t) => t.kind),
    tSendId: col(writes.timers, (t) => t.sendId),
    tEvent: col(writes.timers, (t) => JSON.stringify(t.event)),
    tDue: col(writes.timers, (t) => t.dueAt),
  });
}

const CANDIDATE_FACTOR = 4;

// Like the step engine's claim: contacts with a due timer, each locked with the contact's step
// lock (tried, never waited for) in the outer query over a fenced subquery.
const CLAIM_SQL = `
SELECT contact_id FROM (
  SELECT contact_id, min(due_at) AS first_due FROM (
    SELECT contact_id, due_at FROM conversation_timers
     WHERE status = 'pending' AND due_at <= :now::timestamptz
     ORDER BY due_at LIMIT :scan::int
  ) due GROUP BY contact_id
  ORDER BY first_due
  OFFSET 0
) candidates
WHERE pg_try_advisory_xact_lock(${contactLockKeySql('candidates.contact_id')})
LIMIT :limit::int`;

/** Locks up to `limit` contacts with a due timer, for this transaction. */
export async function claimDueTimerContacts(trx: Trx, now: Date, limit: number): Promise<number[]> {
  const result = (await trx.raw(CLAIM_SQL, { now, scan: limit * CANDIDATE_FACTOR, limit })) as {
    rows: Array<{ contact_id: string | number }>;
  };
  return result.rows.map((row) => Number(row.contact_id));
}

export interface DueTimerRow {
  id: number;
  conversation_id: number;
  contact_id: number;
  kind: 'machine' | 'handoff_resume';
  send_id: string;
  event: { type: string };
  due_at: Date;
  attempts: number;
  conversation_active: boolean;
  paused: boolean;
  ticket_id: number | null;
  contact_name: string | null;
  contact_number: string | null;
  /** The contact wrote before the timer came due: they were not silent, the input wins. */
  input_first: boolean;
}

// Read after the claim, so it sees everything the previous holder of each contact committed.
const DUE_SQL = `
SELECT t.id, t.conversation_id, t.contact_id, t.kind, t.send_id, t.event, t.due_at, t.attempts,
       c.is_active AS conversation_active, c.bot_paused_at IS NOT NULL AS paused,
       c.ticket_id, c.contact_name, c.contact_number,
       EXISTS (SELECT 1 FROM message_history m
                WHERE m.contact_id = t.contact_id AND m.status = 'received' AND m.direction = 'inbound'
                  AND m.created_at <= t.due_at) AS input_first
  FROM conversation_timers t JOIN user_conversations c ON c.id = t.conversation_id
 WHERE t.contact_id = ANY(:contacts::bigint[]) AND t.status = 'pending' AND t.due_at <= :now::timestamptz
 ORDER BY t.contact_id, t.due_at, t.id`;

export async function readDueTimers(trx: Trx, contactIds: readonly number[], now: Date): Promise<DueTimerRow[]> {
  const result = (await trx.raw(DUE_SQL, { contacts: contactIds as unknown as Knex.Value, now })) as {
    rows: Array<Omit<DueTimerRow, 'id' | 'conversation_id' | 'contact_id' | 'ticket_id'> & {
      id: string | number;
      conversation_id: string | number;
      contact_id: string | number;
      ticket_id: string | number | null;
    }>;
  };
  return result.rows.map((row) => ({
    ...row,
    id: Number(row.id),
    conversation_id: Number(row.conversation_id),
    contact_id: Number(row.contact_id),
    ticket_id: row.ticket_id === null ? null : Number(row.ticket_id),
  }));
}

export interface TimerSettlement {
  readonly id: number;
  readonly status: 'fired' | 'cancelled';
  readonly outcome: string;
}

/** Marks claimed timers fired or cancelled; throws (rolling the batch back) if one was not pending. */
export async function settleTimers(trx: Trx, settled: readonly TimerSettlement[]): Promise<void> {
  if (settled.length === 0) return;
  const result = (await trx.raw(
    `UPDATE conversation_timers t SET status = s.status, outcome = s.outcome, finished_at = now()
       FROM unnest(:ids::bigint[], :statuses::text[], :outcomes::text[]) AS s(id, status, outcome)
      WHERE t.id = s.id AND t.status = 'pending'`,
    {
      ids: settled.map((s) => s.id) as unknown as Knex.Value,
      statuses: settled.map((s) => s.status) as unknown as Knex.Value,
      outcomes: settled.map((s) => s.outcome) as unknown as Knex.Value,
    },
  )) as { rowCount: number | null };
  if ((result.rowCount ?? 0) !== settled.length) {
    throw new Error(`timer settlement raced: ${result.rowCount ?? 0} of ${settled.length} timers were still pending`);
  }
}

/** Ends hand-offs whose agent went quiet (or whose ticket closed): the next message starts over. */
export async function endHolds(trx: Trx, conversationIds: readonly number[], reason: string): Promise<number[]> {
  if (conversationIds.length === 0) return [];
  const result = (await trx.raw(
    `WITH ended AS (
       UPDATE user_conversations SET is_active = false, closed_reason = :reason, bot_paused_at = NULL, updated_at = now()
        WHERE id = ANY(:ids::bigint[]) AND is_active
        RETURNING id, contact_id
     ), timers AS (
       UPDATE conversation_timers SET status = 'cancelled', outcome = 'conversation ended', finished_at = now()
        WHERE conversation_id IN (SELECT id FROM ended) AND status = 'pending'
     ), logged AS (
       INSERT INTO activity_logs (conversation_id, contact_id, actor, action, details)
       SELECT id, contact_id, 'bot', 'conversation.handoff_ended', json_build_object('reason', :reason::text)::jsonb FROM ended
     )
     SELECT id FROM ended`,
    { ids: conversationIds as unknown as Knex.Value, reason },
  )) as { rows: Array<{ id: string | number }> };
  return result.rows.map((row) => Number(row.id));
}

/** A failing timer step: retried later with backoff, its error kept on the row. */
export async function recordTimerFailure(db: Runner, ids: readonly number[], error: string, retryAt: Date): Promise<void> {
  if (ids.length === 0) return;
  await db.raw(
    `UPDATE conversation_timers SET attempts = attempts + 1, last_error = :error, due_at = :retryAt::timestamptz
      WHERE id = ANY(:ids::bigint[]) AND status = 'pending'`,
    { ids: ids as unknown as Knex.Value, error, retryAt },
  );
}

/** When the next pending timer comes due, if any. */
export async function nextTimerDue(db: Runner): Promise<Date | undefined> {
  const result = (await db.raw("SELECT min(due_at) AS next FROM conversation_timers WHERE status = 'pending'")) as {
    rows: Array<{ next: Date | null }>;
  };
  return result.rows[0]?.next ?? undefined;
}

/** Drops every pending timer of a conversation (pause, close, reset by an operator). */
export async function dropConversationTimers(db: Runner, conversationId: number, because: string, kinds: ReadonlyArray<'machine' | 'handoff_resume'> = ['machine', 'handoff_resume']): Promise<number> {
  const result = (await db.raw(
    `UPDATE conversation_timers SET status = 'cancelled', outcome = :because, finished_at = now()
      WHERE conversation_id = :conversationId AND status = 'pending' AND kind = ANY(:kinds::text[])`,
    { conversationId, because, kinds: kinds as unknown as Knex.Value },
  )) as { rowCount: number | null };
  return result.rowCount ?? 0;
}
