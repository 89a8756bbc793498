import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('flow_messages', (t) => {
    t.increments('id').primary();
    t.integer('subflow_id').notNullable().references('id').inTable('subflows');
    t.text('message_text').notNullable();
    t.text('message_type').notNullable().defaultTo('text');
    t.integer('order_index').notNullable().defaultTo(0);
    t.boolean('wait_for_response').notNullable().defaultTo(true);
    t.boolean('wait_for_file').notNullable().defaultTo(false);
    t.specificType('expected_file_types', 'text[]').notNullable().defaultTo('{}');
    t.integer('delay_seconds').notNullable().defaultTo(0);
    t.boolean('is_active').notNullable().defaultTo(true);
    t.timestamps(true, true);
    t.index(['subflow_id', 'order_index']);
  });
  await knex.raw(
    'ALTER TABLE flow_messages ADD CONSTRAINT flow_messages_delay_not_negative CHECK (delay_seconds >= 0)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('flow_messages');
}
