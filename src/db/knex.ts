import knexFactory, { type Knex } from 'knex';
import pg from 'pg';

// BIGINT columns (ids, contact ids) come back as numbers: GOSAC ids and our row counts stay far
// below 2^53, and the API contract shows them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export type Database = Knex;

export function createDatabase(url: string, poolMax = 10): Database {
  return knexFactory({
    client: 'pg',
    connection: url,
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10_000,
  });
}
