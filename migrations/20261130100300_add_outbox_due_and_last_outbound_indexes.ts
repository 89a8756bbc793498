import type { Knex } from 'knex';

// The send stage looks for due replies across contacts (`outbox_due`); a step reads the contact's
// last reply for the cooldown (`last_outbound`: without it the first step of a new contact scanned
// every message of the table's contact rows, inbound included).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    "CREATE INDEX message_history_outbox_due ON message_history (due_at) WHERE status = 'pending'",
  );
  await knex.raw(
    "CREATE INDEX message_history_last_outbound ON message_history (contact_id, id) WHERE direction = 'outbound'",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX message_history_outbox_due');
  await knex.raw('DROP INDEX message_history_last_outbound');
}
