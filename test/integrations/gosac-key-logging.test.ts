// The GOSAC key never reaches the log, checked where it matters: the whole service (web + worker)
// at LOG_LEVEL=trace answering a webhook through a fake GOSAC, a failed call and its retry
// included. The capture must hold the sending path's own lines, or the check proves nothing.
import { expect } from 'chai';
import { startService, type RunningService } from '../../src/service.js';
import { createLogger } from '../../src/shared/logger.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { insertFlow } from '../support/flow-builder.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { testServiceConfig } from '../support/test-service.js';
import { eventually } from '../support/eventually.js';
import { textMessage } from '../support/webhook-payloads.js';

const SECRET = 'k3y-0f-gosac-never-logged-7731';
const KEY = `INTEGRATION ${SECRET}`;

describe('the GOSAC key in the service log', function () {
  this.timeout(60_000);
  let testDb: TestDatabase;
  let gosac: FakeGosac;
  let service: RunningService | undefined;
  const lines: string[] = [];

  before(async () => {
    testDb = await createTestDatabase();
    gosac = await startFakeGosac();
    await insertFlow(testDb.db, [{ name: 'Início', messages: [{ text: 'Olá! Como posso ajudar?' }] }]);
    service = await startService(
      testServiceConfig({
        DATABASE_URL: testDb.url,
        LOG_LEVEL: 'trace',
        GOSAC_BASE_URL: gosac.url,
        GOSAC_AUTHORIZATION_KEY: KEY,
        GOSAC_INTEGRATION: 'flowbot-test',
      }),
      { logger: createLogger('trace', 'flow-bot', { destination: { write: (line: string) => lines.push(line) } }) },
    );
  });
  after(async () => {
    await service?.stop();
    await gosac?.stop();
    await testDb?.drop();
  });

  it('is sent to GOSAC on every attempt and appears in no log line', async () => {
    gosac.failNext(1, 500);
    const response = await fetch(`${service!.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: KEY },
      body: JSON.stringify(textMessage({ contactId: 88_001, ticketId: 88_002 }, 'Oi')),
    });
    expect(response.status).to.equal(200);
    const [reply] = await gosac.waitForMessages('/messages/88002', 1, 30_000);
    expect(reply!.body).to.deep.equal({ body: 'Olá! Como posso ajudar?' });
    const attempts = gosac.attemptsTo('/messages/88002');
    expect(attempts.map((attempt) => [attempt.status, attempt.headers['authorization']])).to.deep.equal([
      [500, KEY],
      [200, KEY],
    ]);

    // Something was logged on the sending path, at trace and above: both calls with their headers,
    // and both answers (the last one is logged just after the fake GOSAC recorded it).
    const gosacRecords = () =>
      lines.map((line) => JSON.parse(line) as { msg: string; component?: string }).filter((record) => record.component === 'gosac');
    await eventually(async () => {
      expect(gosacRecords().map((record) => record.msg)).to.deep.equal(['calling GOSAC', 'GOSAC answered', 'calling GOSAC', 'GOSAC answered']);
    }, 5_000);
    expect(lines.join('\n')).to.include('[redacted]');

    // …and the key is in none of it (nor the configuration, nor the request log of the webhook).
    for (const line of lines) expect(line).to.not.include(SECRET);
  });
});
