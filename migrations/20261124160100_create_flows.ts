import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('flows', (t) => {
    t.increments('id').primary();
    t.integer('template_id').notNullable().references('id').inTable('flow_templates');
    t.text('name').notNullable();
    t.text('description');
    t.boolean('is_default').notNullable().defaultTo(false);
    t.boolean('is_active').notNullable().defaultTo(true);
    t.integer('order_index').notNullable().defaultTo(0);
    t.timestamps(true, true);
    t.index(['template_id', 'order_index']);
  });
  // New conversations need exactly one flow to start on: the database itself refuses a second
  // active default, whatever the application code does.
  await knex.raw(
    'CREATE UNIQUE INDEX flows_one_active_default ON flows ((true)) WHERE is_default AND is_active',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('flows');
}
