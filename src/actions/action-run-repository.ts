import type { Knex } from 'knex';

// The action executor's statements (ADR 0008): claim due runs with a lease (one at a time per
// contact, in the order they were requested), record outcomes, list and re-run failures.

type Runner = Knex | Knex.Transaction;

export interface ActionRun {
  id: number;
  conversation_id: number | null;
  contact_id: number;
  ticket_id: number | null;
  contact_name: string | null;
  contact_number: string | null;
  flow_message_id: number | null;
  action_index: number;
  action_type: string;
  action: Record<string, unknown>;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  uncertain_attempts: number;
  due_at: Date;
  claimed_until: Date | null;
  result: string | null;
  last_error: string | null;
  fed_at: Date | null;
  finished_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

// A run is claimable when it is its contact's first pending run, due, and not leased to a live
// worker. A lease that ran out means its worker died or hung mid-call: the call may have been
// made, so `uncertain_attempts` counts it (ADR 0008: at most one duplicate call).
const CLAIM_SQL = `
WITH heads AS (
  SELECT DISTINCT ON (contact_id) id FROM action_runs WHERE status = 'pending' ORDER BY contact_id, id
), due AS (
  SELECT r.id FROM action_runs r JOIN heads h ON h.id = r.id
   WHERE r.status = 'pending' AND r.due_at <= now() AND (r.claimed_until IS NULL OR r.claimed_until <= now())
   ORDER BY r.due_at, r.id
   LIMIT :limit::int
   FOR UPDATE OF r SKIP LOCKED
)
UPDATE action_runs r SET
  claimed_until = now() + make_interval(secs => :leaseMs::double precision / 1000),
  attempts = r.attempts + 1,
  uncertain_attempts = r.uncertain_attempts + CASE WHEN r.claimed_until IS NOT NULL THEN 1 ELSE 0 END,
  updated_at = now()
FROM due WHERE r.id = due.id
RETURNING r.*`;

export async function claimRuns(db: Runner, limit: number, leaseMs: number): Promise<ActionRun[]> {
  if (limit <= 0) return [];
  const result = (await db.raw(CLAIM_SQL, { limit, leaseMs })) as { rows: ActionRun[] };
  return result.rows.map((row) => ({ ...row, id: Number(row.id), contact_id: Number(row.contact_id) }));
}

/** When the next pending run becomes due, if any. */
export async function nextRunDue(db: Runner): Promise<Date | undefined> {
  const result = (await db.raw(
    "SELECT min(greatest(due_at, coalesce(claimed_until, due_at))) AS next FROM action_runs WHERE status = 'pending'",
  )) as { rows: Array<{ next: Date | null }> };
  return result.rows[0]?.next ?? undefined;
}

// An outcome to feed makes its contact due for the step engine, which the executor pokes in its
// own process (every worker runs both loops); other workers find it at their idle poll. No NOTIFY
// inside the statement: PostgreSQL serialises notifying commits (ADR 0004).
const DONE = `
SELECT count(*) FILTER (WHERE fed_at IS NULL) AS n FROM done`;

/** Recorded before the result is fed anywhere: a succeeded run is never called again. True: there is an outcome to feed. */
export async function recordSuccess(db: Runner, id: number, result: string): Promise<boolean> {
  const outcome = (await db.raw(
    `WITH done AS (
       UPDATE action_runs SET status = 'succeeded', result = :result, last_error = NULL, claimed_until = NULL,
              finished_at = now(), updated_at = now()
        WHERE id = :id AND status = 'pending' RETURNING fed_at)${DONE}`,
    { id, result },
  )) as { rows: Array<{ n: string }> };
  return Number(outcome.rows[0]?.n ?? 0) > 0;
}

/** True: there is an outcome to feed. */
export async function recordFailure(db: Runner, id: number, error: string): Promise<boolean> {
  const outcome = await db.raw(
    `WITH done AS (
       UPDATE action_runs SET status = 'failed', last_error = :error, claimed_until = NULL, finished_at = now(), updated_at = now()
        WHERE id = :id AND status = 'pending' RETURNING fed_at)${DONE}`,
    { id, error },
  ) as { rows: Array<{ n: string }> };
  return Number(outcome.rows[0]?.n ?? 0) > 0;
}

export async function recordRetry(db: Runner, id: number, error: string, dueAt: Date): Promise<void> {
  await db.raw(
    `UPDATE action_runs SET last_error = :error, due_at = :dueAt::timestamptz, claimed_until = NULL, updated_at = now()
      WHERE id = :id AND status = 'pending'`,
    { id, error, dueAt },
  );
}

export interface RunListQuery {
  readonly status?: 'pending' | 'succeeded' | 'failed' | undefined;
  readonly contactId?: number | undefined;
  readonly limit: number;
  readonly offset: number;
}

export async function listRuns(db: Runner, query: RunListQuery): Promise<{ rows: ActionRun[]; total: number }> {
  const base = db('action_runs').modify((q) => {
    if (query.status) q.where('status', query.status);
    if (query.contactId !== undefined) q.where('contact_id', query.contactId);
  });
  const [rows, count] = await Promise.all([
    base.clone().orderBy('id', 'desc').limit(query.limit).offset(query.offset).select('*') as Promise<ActionRun[]>,
    base.clone().count<{ count: string }[]>({ count: '*' }),
  ]);
  return { rows, total: Number(count[0]?.count ?? 0) };
}

/**
 * A failed run is run again from scratch. The conversation has already gone on past it (its
 * failure was fed), so the new outcome is recorded on the run and not fed again.
 */
export async function retryRun(db: Runner, id: number): Promise<'retried' | 'not_failed' | 'not_found'> {
  const updated = await db('action_runs')
    .where({ id, status: 'failed' })
    .update({ status: 'pending', attempts: 0, uncertain_attempts: 0, due_at: db.fn.now(), claimed_until: null, updated_at: db.fn.now() });
  if (updated > 0) return 'retried';
  const exists = await db('action_runs').where({ id }).first('id');
  return exists ? 'not_failed' : 'not_found';
}
