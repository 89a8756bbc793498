import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('user_conversations', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('contact_id').notNullable();
    t.text('contact_name');
    t.text('contact_number');
    t.bigInteger('ticket_id');
    t.integer('flow_id').notNullable().references('id').inTable('flows');
    t.bigInteger('flow_version_id').notNullable().references('id').inTable('flow_versions');
    t.integer('current_subflow_id');
    t.integer('current_message_id');
    // The persisted XState snapshot: the whole truth about where the conversation stands.
    t.jsonb('conversation_state').notNullable();
    t.jsonb('variables').notNullable().defaultTo('{}');
    t.boolean('is_active').notNullable().defaultTo(true);
    t.boolean('is_completed').notNullable().defaultTo(false);
    t.text('closed_reason');
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_activity_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('completed_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    'CREATE UNIQUE INDEX user_conversations_one_active_per_contact ON user_conversations (contact_id) WHERE is_active',
  );
  await knex.raw(
    'CREATE INDEX user_conversations_recent_active ON user_conversations (last_activity_at DESC) WHERE is_active',
  );
  await knex.raw('CREATE INDEX user_conversations_contact ON user_conversations (contact_id, id DESC)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('user_conversations');
}
