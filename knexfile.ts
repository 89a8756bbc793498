// For the knex CLI (`npx knex migrate:make name`, `migrate:status`); the service itself migrates
// on start through src/db/migrate.ts, which also installs graphile-worker's schema.
import type { Knex } from 'knex';

const config: Knex.Config = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: {
    directory: './migrations',
    extension: 'ts',
    loadExtensions: ['.ts'],
  },
};

export default config;
