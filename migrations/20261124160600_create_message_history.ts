import type { Knex } from 'knex';

// Every message in and out. Inbound rows are the inbox (stored before the webhook answers);
// outbound rows are the outbox the delivery job sends in id order, each when due.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('message_history', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('conversation_id').references('id').inTable('user_conversations');
    t.bigInteger('contact_id').notNullable();
    t.bigInteger('ticket_id');
    t.text('direction').notNullable();
    t.text('body').notNullable().defaultTo('');
    t.text('media_type').notNullable().defaultTo('text');
    t.text('media_url');
    t.text('media_path');
    t.text('contact_name');
    t.text('contact_number');
    t.text('gosac_message_id').unique();
    t.text('status').notNullable();
    t.integer('flow_message_id');
    t.text('reason');
    t.timestamp('due_at', { useTz: true });
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('processed_at', { useTz: true });
    t.timestamp('sent_at', { useTz: true });
  });
  await knex.raw(`ALTER TABLE message_history
    ADD CONSTRAINT message_history_direction CHECK (direction IN ('inbound', 'outbound')),
    ADD CONSTRAINT message_history_status CHECK (status IN ('received', 'processed', 'pending', 'sent', 'failed', 'dry_run'))`);
  await knex.raw(
    "CREATE INDEX message_history_inbox ON message_history (contact_id, id) WHERE status = 'received'",
  );
  await knex.raw(
    "CREATE INDEX message_history_outbox ON message_history (contact_id, id) WHERE status = 'pending'",
  );
  await knex.raw('CREATE INDEX message_history_conversation ON message_history (conversation_id, id)');
  await knex.raw('CREATE INDEX message_history_created_at ON message_history (created_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('message_history');
}
