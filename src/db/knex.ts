import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Logger } from '../shared/logger.js';

// BIGINT columns (ids, contact ids) come back as numbers: GOSAC ids and our row counts stay far
// below 2^53, and the API contract shows them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export type Database = Knex;

export function createDatabase(url: string, poolMax = 10, logger?: Logger): Database {
  return knexFactory({
    client: 'pg',
    connection: url,
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10_000,
    // knex prints to the console by default (a stack per failed connection attempt while the
    // database is away); route it to our logger, where the callers' own errors already say it.
    log: {
      warn: (message: string) => logger?.debug({ component: 'knex' }, message),
      error: (message: string) => logger?.warn({ component: 'knex' }, message),
      deprecate: (message: string) => logger?.debug({ component: 'knex' }, message),
      debug: (message: string) => logger?.trace({ component: 'knex' }, message),
    },
  });
}
