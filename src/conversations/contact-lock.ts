import type { Knex } from 'knex';

// The one spelling of the per-contact step lock: whoever moves a contact's conversation (the step
// engine, an admin action on one of its conversations) holds it for the length of a transaction.

/** SQL of the lock key for the contact id in `column` (a column name or a bound `?`). */
export function contactLockKeySql(column: string): string {
  return `hashtextextended('process:' || (${column})::text, 0)`;
}

/** Waits for the contact's lock, released at the end of the transaction. */
export async function lockContactForStep(trx: Knex.Transaction, contactId: number): Promise<void> {
  await trx.raw(`SELECT pg_advisory_xact_lock(${contactLockKeySql('?::bigint')})`, [contactId]);
}

/** Takes the contact's lock only if it is free now; never waits. */
export async function tryLockContactForStep(trx: Knex.Transaction, contactId: number): Promise<boolean> {
  const result = (await trx.raw(`SELECT pg_try_advisory_xact_lock(${contactLockKeySql('?::bigint')}) AS locked`, [contactId])) as {
    rows: Array<{ locked: boolean }>;
  };
  return result.rows[0]?.locked === true;
}
