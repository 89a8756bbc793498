import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('system_settings', (t) => {
    t.text('key').primary();
    t.text('value').notNullable();
    t.text('type').notNullable().defaultTo('string');
    t.text('description');
    t.text('updated_by');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    "ALTER TABLE system_settings ADD CONSTRAINT system_settings_type CHECK (type IN ('string', 'boolean', 'number', 'json'))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('system_settings');
}
