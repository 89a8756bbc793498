import type { Knex } from 'knex';

// SPEC §10 on a waiting message: a reminder after some silence (`reminder_text` defaults to the
// message's own text) and a limit of re-prompts in a row before the input goes to a fallback
// subflow. Minutes may be fractional (0.05 = 3 s).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('flow_messages', (t) => {
    t.double('reminder_after_minutes');
    t.text('reminder_text');
    t.integer('max_reprompts');
    t.integer('fallback_subflow_id').references('id').inTable('subflows').onDelete('SET NULL');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('flow_messages', (t) => {
    t.dropColumn('fallback_subflow_id');
    t.dropColumn('max_reprompts');
    t.dropColumn('reminder_text');
    t.dropColumn('reminder_after_minutes');
  });
}
