import type { Task } from 'graphile-worker';
import type { Database } from '../../db/knex.js';
import type { Knex } from 'knex';
import type { GosacClient, SendOutcome } from '../../integrations/gosac-client.js';
import type { Logger } from '../../shared/logger.js';
import { contactIdOf, lockContact, scheduleDeliverContact } from '../job-queue.js';

export const MAX_DELIVERY_ATTEMPTS = 10;
const BASE_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 5 * 60_000;
// Retry-After is honoured, but a server asking for a day must not park the contact's replies for a day.
const MAX_RETRY_AFTER_MS = 60 * 60_000;

export interface DeliverDeps {
  readonly db: Database;
  readonly gosac: GosacClient;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
}

interface PendingRow {
  id: number;
  contact_id: number;
  ticket_id: number | null;
  body: string;
  attempts: number;
  due_at: Date | null;
}

type StepOutcome = 'sent' | 'failed' | 'waiting' | 'empty';

/** 1 s, 2 s, 4 s … capped at 5 min, with ±20 % jitter so many contacts do not retry in step. */
export function backoffMs(failedAttempts: number, random: () => number = Math.random): number {
  const exponential = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}

export interface OutcomeContext {
  readonly now: () => number;
  readonly random: () => number;
  readonly log: Logger;
}

/**
 * Records what GOSAC answered for one reply, in the transaction that holds the row and the
 * contact's delivery lock: sent (or dry run), a retry with backoff (the row stays first in line and
 * a delivery job is scheduled for its new due time), or failed for good.
 */
export async function recordSendOutcome(
  trx: Knex.Transaction,
  contactId: number,
  row: Pick<PendingRow, 'id' | 'attempts'>,
  outcome: SendOutcome,
  context: OutcomeContext,
): Promise<'sent' | 'failed' | 'waiting'> {
  const attempts = row.attempts + 1;
  if (outcome.ok) {
    await trx.raw('UPDATE message_history SET status = ?, sent_at = now(), attempts = ?, last_error = NULL WHERE id = ?', [
      outcome.dryRun ? 'dry_run' : 'sent',
      attempts,
      row.id,
    ]);
    return 'sent';
  }
  if (outcome.retryable && attempts < MAX_DELIVERY_ATTEMPTS) {
    const delay =
      outcome.retryAfterMs !== undefined
        ? Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS)
        : backoffMs(attempts, context.random);
    const retryAt = new Date(context.now() + delay);
    await trx('message_history').where({ id: row.id }).update({ attempts, last_error: outcome.error, due_at: retryAt });
    await scheduleDeliverContact(trx, contactId, retryAt, 'replace');
    context.log.warn(
      { contactId, messageId: row.id, attempts, retryInMs: delay, error: outcome.error },
      'reply not delivered; will retry',
    );
    return 'waiting';
  }
  await trx('message_history').where({ id: row.id }).update({ status: 'failed', attempts, last_error: outcome.error });
  context.log.error({ contactId, messageId: row.id, attempts, error: outcome.error }, 'reply could not be delivered; giving up on it');
  return 'failed';
}

/**
 * deliver_contact: sends the contact's pending replies in id order, each when due, one at a time.
 * A reply that cannot go yet (not due, or backing off after a failure) holds back the ones after
 * it, so the contact never sees them out of order.
 */
export function createDeliverContactTask(deps: DeliverDeps): Task {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const log = deps.logger.child({ component: 'delivery' });

  async function deliverNext(contactId: number, signal: AbortSignal | undefined): Promise<StepOutcome> {
    return deps.db.transaction(async (trx) => {
      await lockContact(trx, 'deliver', contactId);
      // Two rows: whether a second one waits tells us, after sending, if another round is needed,
      // which spares the common single-reply step a whole transaction that would find nothing.
      // A reply added after this read comes with its own delivery job.
      const [row, next] = (await trx('message_history')
        .where({ contact_id: contactId, direction: 'outbound', status: 'pending' })
        .orderBy('id')
        .forUpdate()
        .limit(2)
        .select('id', 'contact_id', 'ticket_id', 'body', 'attempts', 'due_at')) as PendingRow[];
      if (!row) return 'empty';
      const due = row.due_at ? new Date(row.due_at) : new Date(0);
      if (due.getTime() > now()) {
        await scheduleDeliverContact(trx, contactId, due, 'replace');
        return 'waiting';
      }

      const outcome = await deps.gosac.send({ ticketId: row.ticket_id, contactId, text: row.body }, { signal });
      const recorded = await recordSendOutcome(trx, contactId, row, outcome, { now, random, log });
      if (recorded === 'sent') return next ? 'sent' : 'empty';
      return recorded;
    });
  }

  return async (payload, helpers) => {
    const contactId = contactIdOf(payload);
    // A stopping worker aborts the call in flight; the row stays first in line with its backoff.
    for (;;) {
      const outcome = await deliverNext(contactId, helpers.abortSignal);
      if (outcome === 'empty' || outcome === 'waiting' || helpers.abortSignal?.aborted) return;
    }
  };
}
