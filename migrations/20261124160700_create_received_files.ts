import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('received_files', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('conversation_id').notNullable().references('id').inTable('user_conversations');
    t.bigInteger('message_history_id').references('id').inTable('message_history');
    t.bigInteger('contact_id').notNullable();
    t.integer('flow_message_id');
    t.text('file_name').notNullable();
    t.text('file_type').notNullable().defaultTo('');
    t.text('mime_type');
    t.text('media_url');
    t.text('media_path');
    t.bigInteger('file_size_bytes');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['conversation_id']);
    t.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('received_files');
}
