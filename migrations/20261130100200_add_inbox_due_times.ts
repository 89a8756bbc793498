import type { Knex } from 'knex';

// Inbound rows carry their own due time (arrival + DEBOUNCE_TIME, later the retry time of a step
// that failed): the step engine claims contacts straight from the inbox, without a job per step.
export async function up(knex: Knex): Promise<void> {
  await knex.raw("UPDATE message_history SET due_at = created_at WHERE status = 'received' AND due_at IS NULL");
  // A row stored without one (an older writer) is due at once rather than never. Milliseconds, like
  // every due time: the step engine compares them with the JavaScript clock, which has no finer unit.
  await knex.raw("ALTER TABLE message_history ALTER COLUMN due_at SET DEFAULT date_trunc('milliseconds', now())");
  await knex.raw(
    "CREATE INDEX message_history_inbox_due ON message_history (due_at) WHERE status = 'received'",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX message_history_inbox_due');
  await knex.raw('ALTER TABLE message_history ALTER COLUMN due_at DROP DEFAULT');
}
