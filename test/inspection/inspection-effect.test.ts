// The inspection effect through whole steps on a real database: nothing is collected while nobody
// watches, and what is collected is handed over only after the batch committed.
import { expect } from 'chai';
import type { CoreDeps } from '../../src/app-deps.js';
import { createStepEngine } from '../../src/conversations/step-engine.js';
import type { BatchWrites } from '../../src/conversations/step-repository.js';
import { createFlowVersionStore } from '../../src/flows/flow-versions.js';
import { insertFlow, insertInbound } from '../support/flow-builder.js';
import type { TestDatabase } from '../support/test-database.js';
import { buildTestDeps } from '../support/test-deps.js';

describe('inspection as an effect of committed steps', () => {
  let deps: CoreDeps & { testDb: TestDatabase };
  let watching = false;
  const committed: Array<{ writes: BatchWrites; conversationsInDb: number }> = [];

  before(async () => {
    deps = await buildTestDeps({ MESSAGE_COOLDOWN: '0' });
    await insertFlow(deps.db, [{ name: 'Boas-vindas', keywords: ['menu'], messages: [{ text: 'Olá!', waitForResponse: false }, { text: 'Menu' }] }]);
  });
  after(() => deps.testDb.drop());

  function engine() {
    return createStepEngine({
      ...deps,
      flowVersions: createFlowVersionStore(deps),
      options: { batchSize: 64, concurrency: 1, idlePollMs: 1_000 },
      inspection: { watching: () => watching },
      onCommitted: (writes) => {
        // Read synchronously what the hook can know: the ids the write gave new conversations.
        committed.push({ writes, conversationsInDb: writes.conversations.filter((change) => change.ref.id > 0).length });
      },
    });
  }

  it('collects nothing for inspection while nobody watches', async () => {
    watching = false;
    committed.length = 0;
    await insertInbound(deps.db, { contactId: 61, body: 'oi' });
    await engine().runBatch();
    expect(committed).to.have.length(1);
    expect(committed[0]!.writes.inspection).to.deep.equal([]);
  });

  it('collects each step (input and new snapshot) while someone watches, after the commit, with ids assigned', async () => {
    watching = true;
    committed.length = 0;
    await insertInbound(deps.db, { contactId: 62, body: 'oi' });
    await engine().runBatch();
    expect(committed).to.have.length(1);
    const [step] = committed[0]!.writes.inspection;
    const row = await deps.db('user_conversations').where({ contact_id: 62 }).first('id', 'conversation_state');
    expect(step!.conversation.id).to.equal(Number(row.id));
    expect(step!.startedWith).to.have.property('id').that.matches(/^flow_/);
    expect(step!.input).to.include({ type: 'USER_INPUT', text: 'oi' });
    expect(step!.snapshot).to.deep.equal(row.conversation_state);
    expect(step!.showText).to.equal(false);
  });

  it('carries the INSPECT_SHOW_TEXT setting in force when the batch began', async () => {
    watching = true;
    committed.length = 0;
    await deps.settings.update('INSPECT_SHOW_TEXT', { value: true }, 'test');
    try {
      await insertInbound(deps.db, { contactId: 63, body: 'oi' });
      await engine().runBatch();
      expect(committed[0]!.writes.inspection[0]!.showText).to.equal(true);
    } finally {
      await deps.settings.update('INSPECT_SHOW_TEXT', { value: false }, 'test');
    }
  });
});
