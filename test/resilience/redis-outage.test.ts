// Redis is disposable (DESIGN §5): with it gone the webhook and conversations carry on with
// PostgreSQL alone, settings fall back to a short cache, pub/sub comes back with Redis, and the
// log says so once per outage, not once per request.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startService, type RunningService } from '../../src/service.js';
import { createCapturedLogger, type CapturedLogger } from '../support/captured-logger.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { insertFlow } from '../support/flow-builder.js';
import { redisChild, redisServerAvailable, redisServerMissing, type RedisChild } from '../support/redis-server.js';
import { freePort } from '../support/service-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { testServiceConfig } from '../support/test-service.js';
import { textMessage } from '../support/webhook-payloads.js';
import { eventually } from '../support/eventually.js';

const UNREACHABLE = /redis unreachable/;
const BACK = /redis reachable again/;

describe('Redis goes away', function () {
  this.timeout(60_000);
  let testDb: TestDatabase;
  let gosac: FakeGosac;
  let nextContact = 71_000;
  const running: RunningService[] = [];

  before(async () => {
    // Never skipped: a skipped test would hide exactly the outage behaviour this suite checks.
    if (!redisServerAvailable()) throw new Error(redisServerMissing);
    testDb = await createTestDatabase();
    gosac = await startFakeGosac();
    await insertFlow(testDb.db, [{ name: 'Início', messages: [{ text: 'Olá! Como posso ajudar?' }] }]);
  });
  after(async () => {
    for (const service of running) await service.stop();
    await gosac?.stop();
    await testDb?.drop();
  });

  async function start(redisUrl: string, log: CapturedLogger): Promise<RunningService & { url: string }> {
    const config = testServiceConfig({
      DATABASE_URL: testDb.url,
      REDIS_URL: redisUrl,
      GOSAC_BASE_URL: gosac.url,
      GOSAC_AUTHORIZATION_KEY: 'INTEGRATION redis-test',
    });
    const service = await startService(config, { logger: log.logger });
    running.push(service);
    return service as RunningService & { url: string };
  }

  /** A webhook answered quickly and its reply delivered: the service works without Redis. */
  async function conversationWorks(url: string): Promise<void> {
    nextContact += 1;
    const who = { contactId: nextContact, ticketId: nextContact + 1 };
    const started = Date.now();
    const response = await fetch(`${url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(textMessage(who, 'oi')),
    });
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ status: 'queued' });
    expect(Date.now() - started, 'webhook latency').to.be.below(1_000);
    await gosac.waitForMessages(`/messages/${who.ticketId}`, 1, 10_000);
  }

  it('keeps answering while Redis is down, logs the outage once, and reconnects pub/sub', async () => {
    const redis: RedisChild = redisChild(await freePort());
    await redis.start();
    const log = createCapturedLogger();
    const service = await start(redis.url, log);
    await conversationWorks(service.url);
    const heard: string[] = [];
    await service.deps.sharedState.subscribe('flowbot:test-ping', (message) => heard.push(message));

    await redis.kill();
    for (let index = 0; index < 5; index += 1) await conversationWorks(service.url);
    const ready = await fetch(`${service.url}/ready`);
    expect(ready.status).to.equal(503);
    expect((await ready.json()).checks).to.include({ database: 'ok', redis: 'failing', worker: 'ok' });
    expect((await fetch(`${service.url}/health`)).status).to.equal(200);

    // Another replica changed a setting; its notification is lost with Redis: the short cache
    // TTL still brings the change in within about a second.
    await testDb.db('system_settings').insert({ key: 'BOT_ENABLED', value: 'false', type: 'boolean' }).onConflict('key').merge();
    await eventually(async () => {
      const answer = await post(service.url, textMessage({ contactId: 1 }, 'oi'));
      expect(answer).to.deep.equal({ status: 'bot disabled' });
    }, 3_000);
    await testDb.db('system_settings').where({ key: 'BOT_ENABLED' }).delete();
    await eventually(async () => {
      expect(await post(service.url, textMessage({ contactId: 1 }, 'oi'))).to.deep.equal({ status: 'queued' });
    }, 3_000);
    expect(log.count(UNREACHABLE), 'outage log lines').to.equal(1);

    await redis.start();
    await eventually(async () => {
      expect(log.count(BACK)).to.equal(1);
    }, 10_000);
    const other = new Redis(redis.url);
    try {
      await eventually(async () => {
        await other.publish('flowbot:test-ping', 'hello');
        expect(heard).to.include('hello');
      }, 10_000);
    } finally {
      other.disconnect();
    }
    expect((await fetch(`${service.url}/ready`)).status).to.equal(200);
    await conversationWorks(service.url);
    expect(log.count(UNREACHABLE)).to.equal(1);
    await redis.kill();
  });

  it('starts and answers when Redis is unreachable from the start, saying so once', async () => {
    const log = createCapturedLogger();
    const service = await start(`redis://127.0.0.1:${await freePort()}`, log);
    for (let index = 0; index < 3; index += 1) await conversationWorks(service.url);
    expect(log.count(UNREACHABLE)).to.equal(1);
  });
});

async function post(url: string, payload: unknown): Promise<unknown> {
  const response = await fetch(`${url}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  return response.json();
}

