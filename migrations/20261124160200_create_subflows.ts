import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('subflows', (t) => {
    t.increments('id').primary();
    t.integer('flow_id').notNullable().references('id').inTable('flows');
    t.text('name').notNullable();
    t.text('description');
    t.integer('parent_subflow_id').references('id').inTable('subflows');
    t.specificType('trigger_keywords', 'text[]').notNullable().defaultTo('{}');
    t.integer('order_index').notNullable().defaultTo(0);
    t.boolean('is_active').notNullable().defaultTo(true);
    t.timestamps(true, true);
    t.index(['flow_id', 'order_index']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('subflows');
}
