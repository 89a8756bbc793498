import type { Knex } from 'knex';

// Jobs are added through SQL so they commit (or roll back) with the rows that caused them.
// Signature checked against graphile-worker 0.17.3 (sql/000018.sql): add_job(identifier, payload,
// queue_name, run_at, max_attempts, job_key, priority, flags, job_key_mode).

export const PROCESS_CONTACT_TASK = 'process_contact';
export const DELIVER_CONTACT_TASK = 'deliver_contact';

export interface ContactJobPayload {
  readonly contactId: number;
}

export type JobKeyMode = 'replace' | 'preserve_run_at';

type Runner = Knex | Knex.Transaction;

async function addContactJob(
  db: Runner,
  task: string,
  keyPrefix: string,
  contactId: number,
  runAt: Date | { delayMs: number },
  mode: JobKeyMode,
): Promise<void> {
  const runAtSql = runAt instanceof Date ? '?::timestamptz' : "now() + (?::double precision * interval '1 millisecond')";
  const runAtValue = runAt instanceof Date ? runAt.toISOString() : runAt.delayMs;
  await db.raw(
    `SELECT graphile_worker.add_job(
       ?, json_build_object('contactId', ?::bigint),
       run_at := ${runAtSql},
       job_key := ? || ?::text,
       job_key_mode := ?
     )`,
    [task, contactId, runAtValue, keyPrefix, contactId, mode],
  );
}

/**
 * Replace mode moves the job's run_at on every new message: the contact is answered once it has
 * been quiet for `delayMs` (the debounce window).
 */
export function scheduleProcessContact(
  db: Runner,
  contactId: number,
  runAt: Date | { delayMs: number },
  mode: JobKeyMode = 'replace',
): Promise<void> {
  return addContactJob(db, PROCESS_CONTACT_TASK, 'contact:', contactId, runAt, mode);
}

/**
 * The webhook's jobs, many contacts at once: an aggregate over rows with `contact_id` and
 * `delay_ms` columns (ONE row per contact: one upsert cannot touch the same job twice), for
 * `graphile_worker.add_jobs(<this>, false)`. In 0.17.3 (sql/000018.sql) `add_job(…, job_key_mode
 * := 'replace')` is exactly `add_jobs(ARRAY[spec], false)`, so each contact gets the same job as
 * `scheduleProcessContact(…, { delayMs }, 'replace')`: its run_at moves to now + delay, and a
 * locked (running) job has its key released and a fresh job is added. Ordered by contact so
 * concurrent writers take the job rows' locks in one order. Binds nothing.
 */
export const PROCESS_CONTACT_JOB_SPECS = `array_agg(ROW(
       '${PROCESS_CONTACT_TASK}', json_build_object('contactId', contact_id), NULL,
       now() + (delay_ms * interval '1 millisecond'), NULL, 'contact:' || contact_id::text, NULL, NULL
     )::graphile_worker.job_spec ORDER BY contact_id)`;

/**
 * preserve_run_at: a delivery already scheduled keeps its time; a new one is added otherwise. A
 * job that is running has its key released by graphile-worker, so a fresh one is always queued.
 */
export function scheduleDeliverContact(
  db: Runner,
  contactId: number,
  runAt: Date | { delayMs: number },
  mode: JobKeyMode = 'preserve_run_at',
): Promise<void> {
  return addContactJob(db, DELIVER_CONTACT_TASK, 'deliver:', contactId, runAt, mode);
}

/** Reads `{contactId}` from a job payload; graphile-worker hands payloads over untyped. */
export function contactIdOf(payload: unknown): number {
  const value = (payload as { contactId?: unknown } | null)?.contactId;
  const contactId = typeof value === 'string' ? Number(value) : value;
  if (typeof contactId !== 'number' || !Number.isSafeInteger(contactId)) {
    throw new Error(`job payload has no valid contactId: ${JSON.stringify(payload)}`);
  }
  return contactId;
}

/** Transaction-scoped advisory lock on one contact, for one kind of work ('process' or 'deliver'). */
export async function lockContact(trx: Knex.Transaction, kind: 'process' | 'deliver', contactId: number): Promise<void> {
  await trx.raw("SELECT pg_advisory_xact_lock(hashtextextended(? || ':' || ?::text, 0))", [kind, contactId]);
}
