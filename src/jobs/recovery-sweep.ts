import type { Database } from '../db/knex.js';
import { scheduleDeliverContact, scheduleProcessContact } from './job-queue.js';

// graphile-worker only frees a job locked by a worker that died (kill -9) after hours. Our state
// lives in our own tables, so re-adding a job for any work still waiting there is always safe:
// preserve_run_at leaves a job that is merely scheduled alone, and the per-contact advisory locks
// make a duplicate harmless.
const GRACE = "interval '5 seconds'";

export async function sweepStrandedWork(db: Database): Promise<{ process: number; deliver: number }> {
  const inbox = (await db.raw(
    `SELECT DISTINCT contact_id FROM message_history
      WHERE status = 'received' AND direction = 'inbound' AND created_at < now() - ${GRACE}`,
  )) as { rows: Array<{ contact_id: number }> };
  for (const { contact_id } of inbox.rows) {
    await scheduleProcessContact(db, contact_id, { delayMs: 0 }, 'preserve_run_at');
  }
  const outbox = (await db.raw(
    `SELECT DISTINCT contact_id FROM message_history
      WHERE status = 'pending' AND direction = 'outbound' AND due_at < now() - ${GRACE}`,
  )) as { rows: Array<{ contact_id: number }> };
  for (const { contact_id } of outbox.rows) {
    await scheduleDeliverContact(db, contact_id, { delayMs: 0 }, 'preserve_run_at');
  }
  return { process: inbox.rows.length, deliver: outbox.rows.length };
}
