import type { Knex } from 'knex';

// PostgreSQL NOTIFY channels that wake the worker's loops the moment work is committed, on any
// replica. A notification carries no data: the tables say what is due, so a lost one only costs
// the loop's idle poll.
export const INBOX_CHANNEL = 'flowbot_inbox';
export const OUTBOX_CHANNEL = 'flowbot_outbox';
/** The action executor (src/actions/): actions and downloads were requested. */
export const ACTIONS_CHANNEL = 'flowbot_actions';
export type WakeChannel = typeof INBOX_CHANNEL | typeof OUTBOX_CHANNEL | typeof ACTIONS_CHANNEL;

/** Sent in the caller's transaction: PostgreSQL delivers it only if that transaction commits. */
export async function notifyWake(db: Knex | Knex.Transaction, channel: WakeChannel): Promise<void> {
  await db.raw('SELECT pg_notify(?, ?)', [channel, '']);
}
