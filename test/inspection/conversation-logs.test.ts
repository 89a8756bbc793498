// SPEC §9: log lines about a conversation carry its id (here: the send stage's retry line).
import { expect } from 'chai';
import { startService, type RunningService } from '../../src/service.js';
import { buildFlowThroughApi } from '../support/admin-flow-builder.js';
import { createCapturedLogger } from '../support/captured-logger.js';
import { eventually } from '../support/eventually.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { TEST_ADMIN_TOKEN } from '../support/test-deps.js';
import { testServiceConfig } from '../support/test-service.js';
import { textMessage } from '../support/webhook-payloads.js';

describe('log lines about a conversation', function () {
  this.timeout(60_000);
  const captured = createCapturedLogger('info');
  let testDb: TestDatabase;
  let gosac: FakeGosac;
  let service: RunningService;

  before(async () => {
    testDb = await createTestDatabase();
    gosac = await startFakeGosac();
    service = await startService(
      testServiceConfig({ DATABASE_URL: testDb.url, GOSAC_BASE_URL: gosac.url, GOSAC_AUTHORIZATION_KEY: 'INTEGRATION test' }),
      { logger: captured.logger },
    );
  });
  after(async () => {
    await service?.stop();
    await gosac?.stop();
    await testDb?.drop();
  });

  const admin = {
    async admin(method: string, path: string, body?: unknown) {
      const response = await fetch(`${service.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    },
  };

  it('carry conversationId (the send stage retrying a reply)', async () => {
    await buildFlowThroughApi(admin, [{ name: 'Boas-vindas', keywords: ['menu'], messages: [{ text: 'Menu' }] }]);
    gosac.failNext(1, 503);
    await fetch(`${service.url}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(textMessage({ contactId: 4_701 }, 'oi')) });
    let line: (typeof captured.lines)[number] | undefined;
    await eventually(async () => {
      line = captured.lines.find((candidate) => candidate.msg === 'reply not delivered; will retry');
      expect(line).to.not.equal(undefined);
    }, 15_000);
    const conversation = await testDb.db('user_conversations').where({ contact_id: 4_701 }).first('id');
    expect(line).to.include({ contactId: 4_701, conversationId: Number(conversation.id) });
  });
});
