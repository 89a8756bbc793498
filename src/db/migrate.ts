import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger, runMigrations } from 'graphile-worker';
import pg from 'pg';
import type { Database } from './knex.js';

export const migrationsDirectory = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../migrations',
);

export const silentGraphileLogger = new Logger(() => () => {});

/** Brings our schema and graphile-worker's job schema up to date. Safe to run concurrently. */
export async function migrateDatabase(db: Database, databaseUrl: string): Promise<string[]> {
  // Two processes starting together (web and worker) would race on knex's migration lock and
  // one would fail: a session advisory lock makes the second wait, then find nothing to do.
  const lockClient = new pg.Client({ connectionString: databaseUrl });
  await lockClient.connect();
  try {
    await lockClient.query('SELECT pg_advisory_lock(727274, 1)');
    const [, applied] = (await db.migrate.latest({
      directory: migrationsDirectory,
      loadExtensions: ['.ts'],
    })) as [number, string[]];
    await runMigrations({ connectionString: databaseUrl, logger: silentGraphileLogger });
    return applied;
  } finally {
    await lockClient.query('SELECT pg_advisory_unlock(727274, 1)').catch(() => undefined);
    await lockClient.end();
  }
}
