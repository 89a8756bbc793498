import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('activity_logs', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('conversation_id');
    t.bigInteger('contact_id');
    t.text('actor').notNullable();
    t.text('action').notNullable();
    t.jsonb('details');
    t.jsonb('before');
    t.jsonb('after');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['conversation_id', 'id']);
    t.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('activity_logs');
}
