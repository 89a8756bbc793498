import type { Knex } from 'knex';

// SPEC §10 on a subflow: entered outside BUSINESS_HOURS it gives way to `out_of_hours_subflow_id`;
// `handoff` pauses the conversation when it reaches the subflow's last message.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subflows', (t) => {
    t.boolean('business_hours_only').notNullable().defaultTo(false);
    t.integer('out_of_hours_subflow_id').references('id').inTable('subflows').onDelete('SET NULL');
    t.boolean('handoff').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('subflows', (t) => {
    t.dropColumn('handoff');
    t.dropColumn('out_of_hours_subflow_id');
    t.dropColumn('business_hours_only');
  });
}
