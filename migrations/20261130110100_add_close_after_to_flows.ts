import type { Knex } from 'knex';

// SPEC §10 on a flow: a conversation silent for `close_after_minutes` is closed with `close_text`
// sent (fractional minutes allowed).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('flows', (t) => {
    t.double('close_after_minutes');
    t.text('close_text');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('flows', (t) => {
    t.dropColumn('close_text');
    t.dropColumn('close_after_minutes');
  });
}
