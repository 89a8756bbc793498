// `npm run migrate`: bring the database (DATABASE_URL, or the embedded one) up to date and exit.
import path from 'node:path';
import { loadConfig } from '../config.js';
import { createLogger } from '../shared/logger.js';
import { EmbeddedPostgresError, startEmbeddedPostgres } from './embedded-postgres.js';
import { createDatabase } from './knex.js';
import { migrateDatabase } from './migrate.js';

const config = loadConfig();
const logger = createLogger(config.logLevel);
const embedded = config.databaseUrl
  ? undefined
  : await startEmbeddedPostgres({ dataDir: path.join(config.dataDir, 'pg'), databaseName: 'flowbot' }).catch((error: unknown) => {
      // The reason and what to do, in one line.
      if (!(error instanceof EmbeddedPostgresError)) throw error;
      logger.fatal(error.message);
      process.exit(1);
    });
const url = config.databaseUrl ?? embedded!.url;
const db = createDatabase(url, 2);
try {
  const applied = await migrateDatabase(db, url);
  logger.info({ applied }, applied.length > 0 ? 'migrations applied' : 'database already up to date');
} finally {
  await db.destroy();
  await embedded?.stop();
}
