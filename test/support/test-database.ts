// Real PostgreSQL for tests: the server named by DATABASE_URL when set, otherwise one embedded
// server per test run in a temporary folder. Each suite gets its own database, cloned from a
// migrated template so migrations run once per run, not once per suite.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDatabase, type Database } from '../../src/db/knex.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { onSharedTeardown } from '../setup/shared-resources.js';

export interface TestDatabase {
  readonly url: string;
  readonly db: Database;
  drop(): Promise<void>;
}

let serverUrlPromise: Promise<URL> | undefined;
let templatePromise: Promise<string> | undefined;
let counter = 0;
const runId = `${process.pid}_${Date.now().toString(36)}`;

function serverUrl(): Promise<URL> {
  serverUrlPromise ??= (async () => {
    if (process.env.DATABASE_URL) return new URL(process.env.DATABASE_URL);
    const folder = await mkdtemp(path.join(os.tmpdir(), 'flowbot-test-pg-'));
    // The server runs as the `postgres` user when the tests run as root: let it in.
    await import('node:fs/promises').then((fs) => fs.chmod(folder, 0o777));
    // Bounded: when the server cannot start, every suite fails at once with the reason (the
    // rejection is kept), instead of each waiting out its own timeout on a start that never ends.
    const embedded = await startEmbeddedPostgres({
      dataDir: path.join(folder, 'data'),
      databaseName: 'postgres',
      startTimeoutMs: 60_000,
    });
    onSharedTeardown(async () => {
      await embedded.stop();
      await rm(folder, { recursive: true, force: true });
    });
    return new URL(embedded.url);
  })();
  return serverUrlPromise;
}

function urlFor(base: URL, database: string): string {
  const url = new URL(base.toString());
  url.pathname = `/${database}`;
  return url.toString();
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({
    connectionString: urlFor(await serverUrl(), 'postgres'),
    connectionTimeoutMillis: 10_000,
    query_timeout: 60_000,
  });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function templateName(): Promise<string> {
  templatePromise ??= (async () => {
    const name = `flowbot_tpl_${runId}`;
    await adminQuery(`CREATE DATABASE ${name}`);
    onSharedTeardown(() => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    const url = urlFor(await serverUrl(), name);
    const db = createDatabase(url, 2);
    try {
      await migrateDatabase(db, url);
    } finally {
      await db.destroy();
    }
    return name;
  })();
  return templatePromise;
}

/** A fresh, migrated database of its own; drop it when the suite ends. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = await templateName();
  counter += 1;
  const name = `flowbot_t_${runId}_${counter}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  const url = urlFor(await serverUrl(), name);
  const db = createDatabase(url, 5);
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await db.destroy();
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  onSharedTeardown(drop);
  return { url, db, drop };
}
