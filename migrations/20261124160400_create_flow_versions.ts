import type { Knex } from 'knex';

// An immutable, content-addressed copy of a flow as conversations run it: a conversation pins
// the version it started on, so editing the flow never changes a conversation in progress.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('flow_versions', (t) => {
    t.bigIncrements('id').primary();
    t.integer('flow_id').notNullable().references('id').inTable('flows');
    t.text('content_hash').notNullable();
    t.jsonb('definition').notNullable();
    t.jsonb('machine_config').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['flow_id', 'content_hash']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('flow_versions');
}
