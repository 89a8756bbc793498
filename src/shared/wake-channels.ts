import type { Knex } from 'knex';

// PostgreSQL NOTIFY channels that wake the worker's loops the moment work is committed, on any
// replica. A notification carries no data: the tables say what is due, so a lost one only costs
// the loop's idle poll. Measured here: a NOTIFY inside a busy transaction (the webhook's batch, a
// step batch) costs a third of the steps per second, because PostgreSQL serialises the commits of
// notifying transactions; the hot path therefore wakes its own process directly and sends
// notifications after the commit, coalesced (`createWakeNotifier`).
export const INBOX_CHANNEL = 'flowbot_inbox';
export const OUTBOX_CHANNEL = 'flowbot_outbox';
/** The action executor (src/actions/): actions and downloads were requested. */
export const ACTIONS_CHANNEL = 'flowbot_actions';
/** A step stored a timer (src/timers/): the timer stage looks again at the next due time. */
export const TIMERS_CHANNEL = 'flowbot_timers';
export type WakeChannel = typeof INBOX_CHANNEL | typeof OUTBOX_CHANNEL | typeof TIMERS_CHANNEL | typeof ACTIONS_CHANNEL;

/** Sent in the caller's transaction: PostgreSQL delivers it only if that transaction commits. */
export async function notifyWake(db: Knex | Knex.Transaction, channel: WakeChannel): Promise<void> {
  await db.raw('SELECT pg_notify(?, ?)', [channel, '']);
}

/**
 * Sends `channel`'s NOTIFY after the caller's commit, in a statement of its own, at most one at a
 * time: calls made while one is being sent make exactly one more. Errors are left to the idle poll.
 */
export function createWakeNotifier(db: Knex, channel: WakeChannel): { notify(): void } {
  let sending = false;
  let again = false;
  const send = (): void => {
    sending = true;
    again = false;
    db.raw('SELECT pg_notify(?, ?)', [channel, ''])
      .catch(() => undefined)
      .finally(() => {
        sending = false;
        if (again) send();
      });
  };
  return {
    notify() {
      if (sending) again = true;
      else send();
    },
  };
}
