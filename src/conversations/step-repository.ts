import type { Knex } from 'knex';
import { leasedReply, type ClaimedReply, type LeasedRow } from '../deliveries/outbox-repository.js';
import type { ActivityRow, ConversationRef, StepWrites } from '../effects/step-writes.js';
import { writeTimerEffects } from '../timers/timer-repository.js';
import { preparedStatement } from '../db/prepared-statement.js';
import { contactLockKeySql } from './contact-lock.js';

// The step engine's statements (ADR 0004): claim due contacts, read their state, write a whole
// batch of steps. Every statement is set-based; none is issued per contact.

type Trx = Knex.Transaction;
type Runner = Knex | Knex.Transaction;

export interface InboxRow {
  id: number;
  ticket_id: number | null;
  body: string;
  media_type: string;
  media_url: string | null;
  media_path: string | null;
  /** The MIME type GOSAC named, if any. */
  media_mime_type?: string | null;
  contact_name: string | null;
  contact_number: string | null;
  due_at: string;
  /** When the webhook accepted it (the start of flowbot_step_duration_seconds). */
  created_at: string;
  attempts: number;
}

export interface ActiveConversationRow {
  id: number;
  flow_id: number;
  flow_version_id: number;
  conversation_state: unknown;
  variables: Record<string, string>;
  last_activity_at: string;
  bot_paused_at: string | null;
}

export interface PendingReplyRow {
  id: number;
  due_at: string;
  /** Claimed by the send stage right now: it may already be at GOSAC, so it is never cancelled. */
  in_flight: boolean;
}

export interface ContactState {
  contactId: number;
  inbox: InboxRow[];
  conversation: ActiveConversationRow | null;
  /** When the last reply that is not pending went (or was due to go) out. */
  lastSentAt: Date | null;
  pending: PendingReplyRow[];
  /** SPEC §8: finished actions whose outcome the conversation has not been given yet, oldest first. */
  actionResults: ActionResultRow[];
}

export interface ActionResultRow {
  id: number;
  conversation_id: number | null;
  flow_message_id: number | null;
  action_index: number;
  status: 'succeeded' | 'failed';
  result: string | null;
  last_error: string | null;
  ticket_id: number | null;
  contact_name: string | null;
  contact_number: string | null;
}

// A few more candidates than the batch, so a loop whose first picks are locked by another worker
// still fills its batch.
const CANDIDATE_FACTOR = 4;

// The lock is tried in the outer query only, over a fenced subquery (OFFSET 0): locks are taken
// for due contacts only, and at most until the batch is full.
// SPEC §8: a contact with an action whose outcome its conversation has not had yet is not due for
// its inputs (they wait in the inbox); it is due once an outcome is ready to be fed back.
const CLAIM_SQL = `
SELECT contact_id FROM (
  SELECT contact_id FROM (
    SELECT c.contact_id, c.first_due FROM (
      SELECT contact_id, min(due_at) AS first_due FROM (
        SELECT contact_id, due_at FROM message_history
         WHERE status = 'received' AND due_at <= :now::timestamptz
         ORDER BY due_at LIMIT :scan::int
      ) due GROUP BY contact_id
    ) c
    WHERE NOT EXISTS (SELECT 1 FROM message_history m
                       WHERE m.contact_id = c.contact_id AND m.status = 'received' AND m.due_at > :now::timestamptz)
      AND NOT EXISTS (SELECT 1 FROM action_runs r JOIN user_conversations u ON u.id = r.conversation_id AND u.is_active
                       WHERE r.contact_id = c.contact_id AND r.fed_at IS NULL)
    UNION ALL
    -- Outcomes wait while an agent holds the conversation (pause): resume feeds them.
    SELECT r.contact_id, min(coalesce(r.finished_at, r.updated_at)) AS first_due FROM action_runs r
     WHERE r.fed_at IS NULL AND r.status <> 'pending'
       AND NOT EXISTS (SELECT 1 FROM user_conversations u
                        WHERE u.contact_id = r.contact_id AND u.is_active AND u.bot_paused_at IS NOT NULL)
     GROUP BY r.contact_id
  ) both_kinds
  ORDER BY first_due
  OFFSET 0
) candidates
WHERE pg_try_advisory_xact_lock(${contactLockKeySql('candidates.contact_id')})
LIMIT :limit::int`;

/** Locks up to `limit` contacts whose inputs are due, for this transaction. */
export async function claimDueContacts(trx: Trx, now: Date, limit: number): Promise<number[]> {
  const result = (await trx.raw(CLAIM_SQL, { now, scan: limit * CANDIDATE_FACTOR, limit }).options(preparedStatement('step_claim'))) as {
    rows: Array<{ contact_id: string | number }>;
  };
  return result.rows.map((row) => Number(row.contact_id));
}

/** When the next input not yet due becomes due (a debounce window or a retry), if any. */
export async function nextInboxDue(db: Runner, now: Date): Promise<Date | undefined> {
  const result = (await db.raw(
    "SELECT min(due_at) AS next FROM message_history WHERE status = 'received' AND due_at > :now::timestamptz",
    { now },
  ).options(preparedStatement('inbox_next_due'))) as { rows: Array<{ next: Date | null }> };
  return result.rows[0]?.next ?? undefined;
}

// Runs after the claim, in a statement of its own: its snapshot is taken once the locks are held,
// so it sees everything the previous holder of a contact committed.
const READ_SQL = `
SELECT c.contact_id,
  (SELECT coalesce(json_agg(i ORDER BY i.id), '[]'::json) FROM (
     SELECT id, ticket_id, body, media_type, media_url, media_path, media_mime_type, contact_name, contact_number, due_at, created_at, attempts
       FROM message_history WHERE contact_id = c.contact_id AND status = 'received') i) AS inbox,
  (SELECT row_to_json(u) FROM (
     SELECT id, flow_id, flow_version_id, conversation_state, variables, last_activity_at, bot_paused_at
       FROM user_conversations WHERE contact_id = c.contact_id AND is_active) u) AS conversation,
  (SELECT coalesce(sent_at, due_at, created_at) FROM message_history
    WHERE contact_id = c.contact_id AND direction = 'outbound' AND status NOT IN ('pending', 'cancelled')
    ORDER BY id DESC LIMIT 1) AS last_sent_at,
  (SELECT coalesce(json_agg(p ORDER BY p.id), '[]'::json) FROM (
     SELECT id, due_at, coalesce(claimed_until > now(), false) AS in_flight
       FROM message_history WHERE contact_id = c.contact_id AND status = 'pending') p) AS pending,
  (SELECT coalesce(json_agg(r ORDER BY r.id), '[]'::json) FROM (
     SELECT id, conversation_id, flow_message_id, action_index, status, result, last_error, ticket_id, contact_name, contact_number
       FROM action_runs WHERE contact_id = c.contact_id AND fed_at IS NULL AND status <> 'pending') r) AS action_results
FROM unnest(:contacts::bigint[]) AS c(contact_id)`;

export async function readContactStates(trx: Trx, contactIds: readonly number[]): Promise<ContactState[]> {
  const result = (await trx.raw(READ_SQL, { contacts: contactIds as unknown as Knex.Value }).options(preparedStatement('step_read'))) as {
    rows: Array<{
      contact_id: string | number;
      inbox: InboxRow[];
      conversation: ActiveConversationRow | null;
      last_sent_at: Date | null;
      pending: PendingReplyRow[];
      action_results: ActionResultRow[];
    }>;
  };
  return result.rows.map((row) => ({
    contactId: Number(row.contact_id),
    inbox: row.inbox,
    conversation: row.conversation,
    lastSentAt: row.last_sent_at,
    pending: row.pending,
    actionResults: row.action_results,
  }));
}

export interface ConversationProgress {
  readonly state: unknown;
  readonly subflowId: number | null;
  readonly messageId: number | null;
  readonly variables: Record<string, string>;
}

/** The final state of one conversation a batch touched. */
export interface ConversationChange {
  readonly ref: ConversationRef;
  /** Set for a conversation the batch started (inserted); undefined for an existing one. */
  readonly start?: { readonly contactId: number; readonly flowId: number; readonly flowVersionId: number };
  progress: ConversationProgress | null;
  /** Newest contact details GOSAC gave; null keeps what is stored. */
  contactName: string | null;
  contactNumber: string | null;
  ticketId: number | null;
  /** 'completed', 'timeout', 'restore_failed'; null while it stays active. */
  endReason: string | null;
  /** The contact wrote to it: its idle time starts again. */
  touched: boolean;
}

export interface ProcessedInput {
  readonly rowId: number;
  readonly conversation: ConversationRef;
  /** epoch ms the webhook accepted it; undefined for rows a paused conversation keeps. */
  readonly acceptedAt?: number | undefined;
}

export interface StepFailure {
  readonly contactId: number;
  readonly rowIds: readonly number[];
  readonly error: string;
  readonly retryAt: Date;
}

export interface BatchWrites extends StepWrites {
  readonly conversations: ConversationChange[];
  readonly processed: ProcessedInput[];
  /** Pending replies a newer input superseded. */
  readonly cancelled: number[];
  readonly failures: StepFailure[];
}

// One statement for the whole batch. New conversations get their ids from the sequence first
// (new_ids); every other row names its conversation either by id or by its place in that list.
const WRITE_SQL = `
WITH new_ids AS MATERIALIZED (
  SELECT n, nextval(pg_get_serial_sequence('user_conversations', 'id')) AS id
    FROM generate_series(1, :newCount::int) AS n
), changed AS (
  UPDATE user_conversations c SET
    conversation_state = CASE WHEN u.has_progress THEN u.state ELSE c.conversation_state END,
    current_subflow_id = CASE WHEN u.has_progress THEN u.subflow_id ELSE c.current_subflow_id END,
    current_message_id = CASE WHEN u.has_progress THEN u.message_id ELSE c.current_message_id END,
    variables = CASE WHEN u.has_progress THEN u.variables ELSE c.variables END,
    contact_name = coalesce(u.contact_name, c.contact_name),
    contact_number = coalesce(u.contact_number, c.contact_number),
    ticket_id = coalesce(u.ticket_id, c.ticket_id),
    last_activity_at = CASE WHEN u.touched THEN now() ELSE c.last_activity_at END,
    updated_at = now(),
    is_active = c.is_active AND u.end_reason IS NULL,
    is_completed = c.is_completed OR u.end_reason IS NOT DISTINCT FROM 'completed',
    closed_reason = coalesce(u.end_reason, c.closed_reason),
    completed_at = CASE WHEN u.end_reason = 'completed' THEN now() ELSE c.completed_at END
  FROM unnest(:uId::bigint[], :uHasProgress::boolean[], :uState::jsonb[], :uSubflow::int[], :uMessage::int[],
              :uVariables::jsonb[], :uName::text[], :uNumber::text[], :uTicket::bigint[], :uEnd::text[],
              :uTouched::boolean[])
       AS u(id, has_progress, state, subflow_id, message_id, variables, contact_name, contact_number, ticket_id,
            end_reason, touched)
  WHERE c.id = u.id
  RETURNING c.id
), started AS (
  INSERT INTO user_conversations
    (id, contact_id, flow_id, flow_version_id, conversation_state, current_subflow_id, current_message_id,
     variables, contact_name, contact_number, ticket_id, is_active, is_completed, closed_reason, completed_at)
  SELECT new_ids.id, s.contact_id, s.flow_id, s.flow_version_id, s.state, s.subflow_id, s.message_id,
         s.variables, s.contact_name, s.contact_number, s.ticket_id, s.end_reason IS NULL,
         s.end_reason IS NOT DISTINCT FROM 'completed', s.end_reason, CASE WHEN s.end_reason = 'completed' THEN now() END
    FROM unnest(:sContact::bigint[], :sFlow::int[], :sVersion::bigint[], :sState::jsonb[], :sSubflow::int[],
                :sMessage::int[], :sVariables::jsonb[], :sName::text[], :sNumber::text[], :sTicket::bigint[],
                :sEnd::text[])
         WITH ORDINALITY AS s(contact_id, flow_id, flow_version_id, state, subflow_id, message_id, variables,
                              contact_name, contact_number, ticket_id, end_reason, n)
    JOIN new_ids USING (n)
   -- After the conversations this batch ends: the contact's new one must not meet the old one
   -- still active in the one-active-per-contact index.
   CROSS JOIN (SELECT count(*) FROM changed) AS ended_first
), processed AS (
  UPDATE message_history m SET status = 'processed', processed_at = now(),
         conversation_id = coalesce(p.conversation_id, (SELECT id FROM new_ids WHERE n = p.new_n))
    FROM unnest(:pRow::bigint[], :pConversation::bigint[], :pNew::int[]) AS p(id, conversation_id, new_n)
   WHERE m.id = p.id AND m.status = 'received'
), cancelled AS (
  UPDATE message_history SET status = 'cancelled', last_error = 'superseded by a newer input'
   WHERE id = ANY(:cancelled::bigint[]) AND status = 'pending'
     AND (claimed_until IS NULL OR claimed_until <= now())
  RETURNING id
), outbox AS (
  -- A row offered a lease (the first new reply of its contact, due now, within the send slots
  -- reserved) takes it when its contact has no other pending reply: none in this snapshot that the
  -- cancelled step above did not cancel. A reply another worker claimed meanwhile is not in
  -- cancelled (its UPDATE waited for that claim and skipped it), so it keeps the line (ADR 0013).
  INSERT INTO message_history
    (conversation_id, contact_id, ticket_id, contact_name, contact_number, body, flow_message_id, reason, due_at,
     direction, media_type, status, claimed_until, attempts)
  SELECT coalesce(o.conversation_id, (SELECT id FROM new_ids WHERE n = o.new_n)), o.contact_id, o.ticket_id,
         o.contact_name, o.contact_number, o.body, o.flow_message_id, o.reason, o.due_at, 'outbound', 'text', 'pending',
         CASE WHEN o.leased THEN now() + make_interval(secs => :leaseSeconds) END, CASE WHEN o.leased THEN 1 ELSE 0 END
    FROM (SELECT o.*, o.offered AND NOT EXISTS (
                   SELECT 1 FROM message_history p
                    WHERE p.contact_id = o.contact_id AND p.status = 'pending'
                      AND p.id NOT IN (SELECT id FROM cancelled)) AS leased
            FROM unnest(:oConversation::bigint[], :oNew::int[], :oContact::bigint[], :oTicket::bigint[], :oName::text[],
                        :oNumber::text[], :oBody::text[], :oFlowMessage::int[], :oReason::text[], :oDue::timestamptz[],
                        :oOffered::boolean[])
                 WITH ORDINALITY AS o(conversation_id, new_n, contact_id, ticket_id, contact_name, contact_number, body,
                                      flow_message_id, reason, due_at, offered, position)) o
   ORDER BY o.position
  RETURNING id, contact_id, conversation_id, ticket_id, body, attempts, uncertain_attempts, claimed_until
), files AS (
  INSERT INTO received_files
    (conversation_id, message_history_id, contact_id, flow_message_id, file_name, file_type, mime_type, media_url, media_path)
  SELECT coalesce(f.conversation_id, (SELECT id FROM new_ids WHERE n = f.new_n)), f.history_id, f.contact_id,
         f.flow_message_id, f.file_name, f.file_type, f.mime_type, f.media_url, f.media_path
    FROM unnest(:fConversation::bigint[], :fNew::int[], :fHistory::bigint[], :fContact::bigint[], :fFlowMessage::int[],
                :fName::text[], :fType::text[], :fMime::text[], :fUrl::text[], :fPath::text[])
         AS f(conversation_id, new_n, history_id, contact_id, flow_message_id, file_name, file_type, mime_type,
              media_url, media_path)
), activity AS (
  INSERT INTO activity_logs (conversation_id, contact_id, actor, action, details)
  SELECT coalesce(a.conversation_id, (SELECT id FROM new_ids WHERE n = a.new_n)), a.contact_id, 'bot', a.action, a.details
    FROM unnest(:aConversation::bigint[], :aNew::int[], :aContact::bigint[], :aAction::text[], :aDetails::jsonb[])
         WITH ORDINALITY AS a(conversation_id, new_n, contact_id, action, details, position)
   ORDER BY a.position
), failed AS (
  UPDATE message_history m SET attempts = m.attempts + 1, last_error = x.error, due_at = x.retry_at
    FROM unnest(:xRow::bigint[], :xError::text[], :xRetry::timestamptz[]) AS x(id, error, retry_at)
   WHERE m.id = x.id AND m.status = 'received'
), actions AS (
  INSERT INTO action_runs
    (conversation_id, contact_id, ticket_id, contact_name, contact_number, flow_message_id, action_index, action_type,
     action, fed_at)
  SELECT coalesce(r.conversation_id, (SELECT id FROM new_ids WHERE n = r.new_n)), r.contact_id, r.ticket_id,
         r.contact_name, r.contact_number, r.flow_message_id, r.action_index, r.action_type, r.action,
         CASE WHEN r.fed THEN now() END
    FROM unnest(:rConversation::bigint[], :rNew::int[], :rContact::bigint[], :rTicket::bigint[], :rName::text[],
                :rNumber::text[], :rFlowMessage::int[], :rIndex::int[], :rType::text[], :rAction::jsonb[], :rFed::boolean[])
         WITH ORDINALITY AS r(conversation_id, new_n, contact_id, ticket_id, contact_name, contact_number,
                              flow_message_id, action_index, action_type, action, fed, position)
   ORDER BY r.position
  RETURNING id
), fed AS (
  UPDATE action_runs SET fed_at = now(), updated_at = now()
   WHERE id = ANY(:fedRuns::bigint[]) AND fed_at IS NULL
  RETURNING id
)
SELECT (SELECT coalesce(array_agg(id ORDER BY n), '{}') FROM new_ids) AS new_ids,
       (SELECT count(*) FROM outbox) AS replies,
       (SELECT coalesce(json_agg(l ORDER BY l.id), '[]'::json) FROM (
          SELECT id, contact_id, conversation_id, ticket_id, body, attempts, uncertain_attempts, claimed_until::text AS lease
            FROM outbox WHERE claimed_until IS NOT NULL) l) AS leased,
       (SELECT count(*) FROM actions) AS actions,
       (SELECT count(*) FROM fed) AS fed`;

interface RefBinding {
  existing: number | null;
  fresh: number | null;
}

/** Send slots a batch may fill with its own leases (ADR 0013). */
export interface LeaseOffer {
  readonly slots: number;
  readonly leaseMs: number;
  /**
   * epoch ms by the batch's clock: a reply due by then is due now. The step's clock, not the
   * database's, stamped the due times (a reply without delay is due at the step's now).
   */
  readonly dueBy: number;
}

export const NO_LEASES: LeaseOffer = { slots: 0, leaseMs: 0, dueBy: 0 };

/** The first reply of each contact, if due, until the slots run out: only a contact's first can be next in its line. */
function leaseOffers(outbox: BatchWrites['outbox'], leases: LeaseOffer): boolean[] {
  const seen = new Set<number>();
  let offered = 0;
  return outbox.map((row) => {
    if (seen.has(row.contactId)) return false;
    seen.add(row.contactId);
    if (offered >= leases.slots || row.dueAt.getTime() > leases.dueBy) return false;
    offered += 1;
    return true;
  });
}

/**
 * Writes a batch of steps; fills in the ids of the conversations it started. Answers the replies it
 * leased for the send stage (at most `leases.slots`): they are the send stage's once the
 * transaction commits, and nobody's if it rolls back.
 */
export async function writeBatch(trx: Trx, writes: BatchWrites, leases: LeaseOffer = NO_LEASES): Promise<ClaimedReply[]> {
  const started = writes.conversations.filter((change) => change.start);
  const freshIndex = new Map<ConversationRef, number>(started.map((change, index) => [change.ref, index + 1]));
  const refOf = (ref: ConversationRef | null): RefBinding => {
    if (ref === null) return { existing: null, fresh: null };
    const fresh = freshIndex.get(ref);
    return fresh === undefined ? { existing: ref.id, fresh: null } : { existing: null, fresh };
  };
  const updated = writes.conversations.filter((change) => !change.start);
  const json = (value: unknown) => JSON.stringify(value);
  const col = <T, V>(rows: readonly T[], pick: (row: T) => V) => rows.map(pick) as unknown as Knex.Value;
  const outboxRefs = writes.outbox.map((row) => refOf(row.conversation));
  const fileRefs = writes.receivedFiles.map((row) => refOf(row.conversation));
  const activityRefs = writes.activity.map((row: ActivityRow) => refOf(row.conversation));
  const actionRefs = writes.actionRuns.map((row) => refOf(row.conversation));
  const processedRefs = writes.processed.map((row) => refOf(row.conversation));
  const failedRows = writes.failures.flatMap((failure) => failure.rowIds.map((id) => ({ id, failure })));

  const result = (await trx.raw(WRITE_SQL, {
    newCount: started.length,
    sContact: col(started, (c) => c.start!.contactId),
    sFlow: col(started, (c) => c.start!.flowId),
    sVersion: col(started, (c) => c.start!.flowVersionId),
    sState: col(started, (c) => json(c.progress?.state ?? null)),
    sSubflow: col(started, (c) => c.progress?.subflowId ?? null),
    sMessage: col(started, (c) => c.progress?.messageId ?? null),
    sVariables: col(started, (c) => json(c.progress?.variables ?? {})),
    sName: col(started, (c) => c.contactName),
    sNumber: col(started, (c) => c.contactNumber),
    sTicket: col(started, (c) => c.ticketId),
    sEnd: col(started, (c) => c.endReason),
    uId: col(updated, (c) => c.ref.id),
    uHasProgress: col(updated, (c) => c.progress !== null),
    uState: col(updated, (c) => (c.progress ? json(c.progress.state) : null)),
    uSubflow: col(updated, (c) => c.progress?.subflowId ?? null),
    uMessage: col(updated, (c) => c.progress?.messageId ?? null),
    uVariables: col(updated, (c) => (c.progress ? json(c.progress.variables) : null)),
    uName: col(updated, (c) => c.contactName),
    uNumber: col(updated, (c) => c.contactNumber),
    uTicket: col(updated, (c) => c.ticketId),
    uEnd: col(updated, (c) => c.endReason),
    uTouched: col(updated, (c) => c.touched),
    pRow: col(writes.processed, (p) => p.rowId),
    pConversation: col(processedRefs, (r) => r.existing),
    pNew: col(processedRefs, (r) => r.fresh),
    oConversation: col(outboxRefs, (r) => r.existing),
    oNew: col(outboxRefs, (r) => r.fresh),
    oContact: col(writes.outbox, (o) => o.contactId),
    oTicket: col(writes.outbox, (o) => o.ticketId),
    oName: col(writes.outbox, (o) => o.contactName),
    oNumber: col(writes.outbox, (o) => o.contactNumber),
    oBody: col(writes.outbox, (o) => o.body),
    oFlowMessage: col(writes.outbox, (o) => o.flowMessageId),
    oReason: col(writes.outbox, (o) => o.reason),
    oDue: col(writes.outbox, (o) => o.dueAt),
    oOffered: leaseOffers(writes.outbox, leases) as unknown as Knex.Value,
    leaseSeconds: leases.leaseMs / 1000,
    fConversation: col(fileRefs, (r) => r.existing),
    fNew: col(fileRefs, (r) => r.fresh),
    fHistory: col(writes.receivedFiles, (f) => f.messageHistoryId),
    fContact: col(writes.receivedFiles, (f) => f.contactId),
    fFlowMessage: col(writes.receivedFiles, (f) => f.flowMessageId),
    fName: col(writes.receivedFiles, (f) => f.fileName),
    fType: col(writes.receivedFiles, (f) => f.fileType),
    fMime: col(writes.receivedFiles, (f) => f.mimeType),
    fUrl: col(writes.receivedFiles, (f) => f.mediaUrl),
    fPath: col(writes.receivedFiles, (f) => f.mediaPath),
    aConversation: col(activityRefs, (r) => r.existing),
    aNew: col(activityRefs, (r) => r.fresh),
    aContact: col(writes.activity, (a) => a.contactId),
    aAction: col(writes.activity, (a) => a.action),
    aDetails: col(writes.activity, (a) => (a.details ? json(a.details) : null)),
    rConversation: col(actionRefs, (r) => r.existing),
    rNew: col(actionRefs, (r) => r.fresh),
    rContact: col(writes.actionRuns, (r) => r.contactId),
    rTicket: col(writes.actionRuns, (r) => r.ticketId),
    rName: col(writes.actionRuns, (r) => r.contactName),
    rNumber: col(writes.actionRuns, (r) => r.contactNumber),
    rFlowMessage: col(writes.actionRuns, (r) => r.flowMessageId),
    rIndex: col(writes.actionRuns, (r) => r.index),
    rType: col(writes.actionRuns, (r) => r.type),
    rAction: col(writes.actionRuns, (r) => json(r.action)),
    rFed: col(writes.actionRuns, (r) => r.fed),
    fedRuns: writes.actionRunsFed as unknown as Knex.Value,
    cancelled: writes.cancelled as unknown as Knex.Value,
    xRow: col(failedRows, (x) => x.id),
    xError: col(failedRows, (x) => x.failure.error),
    xRetry: col(failedRows, (x) => x.failure.retryAt),
  }).options(preparedStatement('step_write'))) as { rows: Array<{ new_ids: Array<string | number>; leased: LeasedRow[] }> };
  const ids = result.rows[0]?.new_ids ?? [];
  started.forEach((change, index) => {
    change.ref.id = Number(ids[index]);
  });
  // Durable timers and hand-offs (ADR 0007): one more statement, only for batches that have any.
  await writeTimerEffects(trx, writes, writes.conversations.filter((change) => change.endReason !== null && !change.start).map((change) => change.ref.id));
  return (result.rows[0]?.leased ?? []).map(leasedReply);
}

/** Records a contact's failed step in a transaction of its own (the batch's was rolled back). */
export async function recordStepFailure(db: Runner, failure: StepFailure): Promise<void> {
  await db.raw(
    `UPDATE message_history SET attempts = attempts + 1, last_error = :error, due_at = :retryAt::timestamptz
      WHERE id = ANY(:rows::bigint[]) AND status = 'received'`,
    { error: failure.error, retryAt: failure.retryAt, rows: failure.rowIds as unknown as Knex.Value },
  );
}

