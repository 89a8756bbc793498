import type { Knex } from 'knex';

// Replies the bot had not sent yet when a conversation was paused, closed or reset, or that a
// newer input superseded, are kept in the history as 'cancelled' instead of being sent late.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE message_history
    DROP CONSTRAINT message_history_status,
    ADD CONSTRAINT message_history_status
      CHECK (status IN ('received', 'processed', 'pending', 'sent', 'failed', 'dry_run', 'cancelled'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("UPDATE message_history SET status = 'failed' WHERE status = 'cancelled'");
  await knex.raw(`ALTER TABLE message_history
    DROP CONSTRAINT message_history_status,
    ADD CONSTRAINT message_history_status
      CHECK (status IN ('received', 'processed', 'pending', 'sent', 'failed', 'dry_run'))`);
}
