// PostgreSQL stops under a running service: the webhook answers 503 (GOSAC retries) rather than
// accept what it cannot store, and the worker carries on when the database is back.
import { expect } from 'chai';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded-postgres.js';
import { createDatabase } from '../../src/db/knex.js';
import { startService, type RunningService } from '../../src/service.js';
import { createLogger } from '../../src/shared/logger.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { insertFlow } from '../support/flow-builder.js';
import { freePort } from '../support/service-process.js';
import { testServiceConfig } from '../support/test-service.js';
import { textMessage } from '../support/webhook-payloads.js';
import { eventually } from '../support/eventually.js';

describe('the database goes away', function () {
  this.timeout(90_000);
  let folder: string;
  let port: number;
  let database: EmbeddedDatabase | undefined;
  let service: RunningService | undefined;
  let gosac: FakeGosac;

  const startDatabase = async () => {
    database = await startEmbeddedPostgres({ dataDir: path.join(folder, 'data'), databaseName: 'outage', port });
    return database;
  };

  before(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'flowbot-outage-pg-'));
    // The server runs as `postgres` when the tests run as root.
    await chmod(folder, 0o777);
    port = await freePort();
    await startDatabase();
    gosac = await startFakeGosac();
  });
  after(async () => {
    await service?.stop();
    await database?.stop().catch(() => undefined);
    await gosac?.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it('answers 503 while PostgreSQL is down and resumes work when it is back', async () => {
    const url = database!.url;
    service = await startService(
      testServiceConfig({
        DATABASE_URL: url,
        // This test is about PostgreSQL alone; Redis stays out of it even when the run has one.
        REDIS_URL: '',
        GOSAC_BASE_URL: gosac.url,
        GOSAC_AUTHORIZATION_KEY: 'INTEGRATION db-test',
      }),
      { logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') },
    );
    const seed = createDatabase(url, 1);
    await insertFlow(seed, [{ name: 'Início', messages: [{ text: 'Olá! Em que posso ajudar?' }] }]);
    await seed.destroy();
    const base = service.url!;

    const first = { contactId: 81_001, ticketId: 81_101 };
    expect(await post(base, textMessage(first, 'oi'))).to.deep.equal({ status: 200, body: { status: 'queued' } });
    await gosac.waitForMessages(`/messages/${first.ticketId}`, 1);

    await database!.stop();
    const during = { contactId: 81_002, ticketId: 81_102 };
    const payload = textMessage(during, 'oi');
    const started = Date.now();
    const refused = await post(base, payload);
    expect(refused.status).to.equal(503);
    expect(refused.body.errors).to.be.an('array').with.length.above(0);
    expect(Date.now() - started, 'a 503 comes fast, before GOSAC gives up on us').to.be.below(5_000);
    expect((await fetch(`${base}/ready`)).status).to.equal(503);
    // Settings fall back to the environment's values only on /health; the webhook refuses.
    expect((await post(base, textMessage({ contactId: 81_003 }, 'de novo'))).status).to.equal(503);

    await startDatabase();
    // GOSAC sends the refused message again: now it is stored, queued and answered.
    await eventually(async () => {
      expect(await post(base, payload)).to.deep.equal({ status: 200, body: { status: 'queued' } });
    }, 20_000);
    await gosac.waitForMessages(`/messages/${during.ticketId}`, 1, 20_000);
    expect((await fetch(`${base}/ready`)).status).to.equal(200);
  });
});

async function post(url: string, payload: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  return { status: response.status, body: await response.json() };
}

