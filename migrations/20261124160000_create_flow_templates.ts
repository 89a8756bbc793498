import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('flow_templates', (t) => {
    t.increments('id').primary();
    t.text('name').notNullable();
    t.text('description');
    t.text('created_by');
    t.boolean('is_active').notNullable().defaultTo(true);
    t.timestamps(true, true);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('flow_templates');
}
