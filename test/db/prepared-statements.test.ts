// The hot path's statements are named prepared statements (docs/decisions/0012): prepared once on
// a connection, then reused, never re-parsed. One pooled connection, so the session this test asks
// `pg_prepared_statements` of is the one that ran them.
import { expect } from 'chai';
import type { CoreDeps } from '../../src/app-deps.js';
import { createIntakeService } from '../../src/conversations/intake-service.js';
import { createDatabase, type Database } from '../../src/db/knex.js';
import { createOutboxRepository } from '../../src/deliveries/outbox-repository.js';
import { emptyStepWrites } from '../../src/effects/step-writes.js';
import { claimDueContacts, nextInboxDue, readContactStates, writeBatch } from '../../src/conversations/step-repository.js';
import type { TestDatabase } from '../support/test-database.js';
import { buildTestDeps } from '../support/test-deps.js';
import { textMessage } from '../support/webhook-payloads.js';

describe('prepared hot statements', () => {
  let deps: CoreDeps & { testDb: TestDatabase };
  let db: Database;

  before(async () => {
    deps = await buildTestDeps();
    db = createDatabase(deps.testDb.url, 1);
  });
  after(async () => {
    await db?.destroy();
    await deps?.testDb.drop();
  });

  async function preparedNames(): Promise<string[]> {
    const result = (await db.raw("SELECT name FROM pg_prepared_statements WHERE name LIKE 'flowbot\\_%' ORDER BY name")) as {
      rows: Array<{ name: string }>;
    };
    return result.rows.map((row) => row.name);
  }

  async function runHotPath(contactId: number): Promise<void> {
    const intake = createIntakeService({ ...deps, db });
    expect((await intake.receive(textMessage({ contactId }, 'oi'))).status).to.equal(200);
    const outbox = createOutboxRepository(db);
    await outbox.claim(10, 60_000);
    await nextInboxDue(db, new Date());
    await db.transaction(async (trx) => {
      await claimDueContacts(trx, new Date(), 10);
      const [state] = await readContactStates(trx, [contactId]);
      expect(state?.contactId).to.equal(contactId);
      await writeBatch(trx, { ...emptyStepWrites(), conversations: [], processed: [], cancelled: [], failures: [] });
    });
  }

  it('prepares each once per connection and runs it again without preparing', async () => {
    await runHotPath(70_001);
    const names = await preparedNames();
    expect(names).to.include.members([
      'flowbot_inbox_next_due',
      'flowbot_intake_store',
      'flowbot_outbox_claim',
      'flowbot_step_claim',
      'flowbot_step_read',
      'flowbot_step_write',
    ]);
    // Again on the same connection: the same statements, no error for a name already taken.
    await runHotPath(70_002);
    expect(await preparedNames()).to.deep.equal(names);
  });
});
