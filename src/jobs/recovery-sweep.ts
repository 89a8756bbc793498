import type { Database } from '../db/knex.js';
import { scheduleDeliverContact, scheduleProcessContact } from './job-queue.js';

// graphile-worker only frees a job locked by a worker that died (kill -9) after hours. Our state
// lives in our own tables, so re-adding a job for any work still waiting there is always safe:
// preserve_run_at leaves a job that is merely scheduled alone, add_job retires a locked job's key
// (and its retries) in favour of the new one, and the per-contact advisory locks make a
// duplicate harmless.
//
// The periodic sweep leaves rows younger than the grace alone: their job is most likely queued or
// running on a live worker and re-adding it would only cost a no-op run. At worker start there
// is no such doubt for work our crashed predecessor held, so the first sweep takes everything.
export const PERIODIC_GRACE_MS = 5_000;

export async function sweepStrandedWork(
  db: Database,
  graceMs: number = PERIODIC_GRACE_MS,
): Promise<{ process: number; deliver: number }> {
  const grace = "(?::double precision * interval '1 millisecond')";
  const inbox = (await db.raw(
    `SELECT DISTINCT contact_id FROM message_history
      WHERE status = 'received' AND direction = 'inbound' AND created_at <= now() - ${grace}`,
    [graceMs],
  )) as { rows: Array<{ contact_id: number }> };
  for (const { contact_id } of inbox.rows) {
    await scheduleProcessContact(db, contact_id, { delayMs: 0 }, 'preserve_run_at');
  }
  const outbox = (await db.raw(
    `SELECT DISTINCT contact_id FROM message_history
      WHERE status = 'pending' AND direction = 'outbound' AND due_at <= now() - ${grace}`,
    [graceMs],
  )) as { rows: Array<{ contact_id: number }> };
  for (const { contact_id } of outbox.rows) {
    await scheduleDeliverContact(db, contact_id, { delayMs: 0 }, 'preserve_run_at');
  }
  return { process: inbox.rows.length, deliver: outbox.rows.length };
}
