import type { Knex } from 'knex';

// A human agent took the conversation over: while set, the contact's messages are stored but the
// bot neither answers nor moves the conversation. NULL means the bot is in charge.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('user_conversations', (t) => {
    t.timestamp('bot_paused_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('user_conversations', (t) => {
    t.dropColumn('bot_paused_at');
  });
}
