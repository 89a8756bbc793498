import type { Knex } from 'knex';

// The send stage claims a reply before calling GOSAC: `claimed_until` is the lease (a reply whose
// lease ran out was in flight when its worker died, so GOSAC may have it), and
// `uncertain_attempts` counts the sends whose outcome we never learned (timeouts, expired
// leases): a second one fails the reply instead of risking a third copy (docs/decisions/0002).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('message_history', (t) => {
    t.timestamp('claimed_until', { useTz: true });
    t.integer('uncertain_attempts').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('message_history', (t) => {
    t.dropColumn('claimed_until');
    t.dropColumn('uncertain_attempts');
  });
}
