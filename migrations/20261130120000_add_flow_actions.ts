import type { Knex } from 'knex';

// SPEC §8: flow messages carry `actions`; each requested action is a row of `action_runs`, run by
// the action executor (src/actions/, docs/decisions/0007) and fed back to its conversation by the
// step engine. Received files get their stored copy (FILES_DIR) and where they were sent.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('flow_messages', (t) => {
    t.jsonb('actions').notNullable().defaultTo(knex.raw("'[]'::jsonb"));
  });

  await knex.schema.createTable('action_runs', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('conversation_id').references('id').inTable('user_conversations');
    t.bigInteger('contact_id').notNullable();
    t.bigInteger('ticket_id');
    t.text('contact_name');
    t.text('contact_number');
    t.integer('flow_message_id');
    t.integer('action_index').notNullable().defaultTo(0);
    t.text('action_type').notNullable();
    // The action with its templates already filled in (it never holds a credential).
    t.jsonb('action').notNullable();
    // For file.download: the received file it stores.
    t.bigInteger('received_file_id');
    // pending → succeeded | failed (a failed run goes back to pending on POST /api/actions/:id/retry).
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('uncertain_attempts').notNullable().defaultTo(0);
    t.timestamp('due_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('claimed_until', { useTz: true });
    t.text('result');
    t.text('last_error');
    // Set once the outcome went back to the conversation (or when there is nothing to feed).
    t.timestamp('fed_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`CREATE INDEX action_runs_pending_idx ON action_runs (contact_id, id) WHERE status = 'pending'`);
  await knex.raw(`CREATE INDEX action_runs_unfed_idx ON action_runs (contact_id, id) WHERE fed_at IS NULL`);
  await knex.raw(`CREATE INDEX action_runs_status_idx ON action_runs (status, id)`);

  await knex.schema.alterTable('received_files', (t) => {
    // Where the stored copy is (a key under FILES_DIR); null until downloaded, or when it never was.
    t.text('storage_key');
    t.text('download_status').notNullable().defaultTo('none');
    t.text('drive_file_id');
    // Pontta occurrences this file is attached to.
    t.specificType('pontta_attached_to', 'text[]').notNullable().defaultTo('{}');
  });

  // The MIME type GOSAC names for a file, when it names one (rule 4 when the path has no extension).
  await knex.schema.alterTable('message_history', (t) => {
    t.text('media_mime_type');
  });

  // Credentials a service hands out (Pontta's id_token), shared by every worker of every replica.
  await knex.schema.createTable('integration_tokens', (t) => {
    t.text('service').primary();
    t.text('token').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // The Drive folder of each contact (`<number> <name>`), created once.
  await knex.schema.createTable('contact_drive_folders', (t) => {
    t.bigInteger('contact_id').notNullable();
    t.text('parent_folder_id').notNullable();
    t.text('folder_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['contact_id', 'parent_folder_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('contact_drive_folders');
  await knex.schema.dropTable('integration_tokens');
  await knex.schema.alterTable('received_files', (t) => {
    t.dropColumn('storage_key');
    t.dropColumn('download_status');
    t.dropColumn('drive_file_id');
    t.dropColumn('pontta_attached_to');
  });
  await knex.schema.alterTable('message_history', (t) => {
    t.dropColumn('media_mime_type');
  });
  await knex.schema.dropTable('action_runs');
  await knex.schema.alterTable('flow_messages', (t) => {
    t.dropColumn('actions');
  });
}
