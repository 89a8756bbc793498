import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('flow_messages', (t) => {
    t.text('save_response_as');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('flow_messages', (t) => {
    t.dropColumn('save_response_as');
  });
}
