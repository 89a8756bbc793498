import type { Knex } from 'knex';

// PostgreSQL NOTIFY channels that wake the worker's loops the moment work is committed, on any
// replica. A notification carries no data: the tables say what is due, so a lost one only costs
// the loop's idle poll.
export const INBOX_CHANNEL = 'flowbot_inbox';
export const OUTBOX_CHANNEL = 'flowbot_outbox';
/** A step stored a timer (src/timers/): the timer stage looks again at the next due time. */
export const TIMERS_CHANNEL = 'flowbot_timers';
export type WakeChannel = typeof INBOX_CHANNEL | typeof OUTBOX_CHANNEL | typeof TIMERS_CHANNEL;

/** Sent in the caller's transaction: PostgreSQL delivers it only if that transaction commits. */
export async function notifyWake(db: Knex | Knex.Transaction, channel: WakeChannel): Promise<void> {
  await db.raw('SELECT pg_notify(?, ?)', [channel, '']);
}
