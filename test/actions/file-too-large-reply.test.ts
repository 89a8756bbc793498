// The polite refusal of a file too large is a reply written outside a step: it must wait for the
// contact's step lock like every other writer of replies, so that a step batch leasing the
// contact's next reply (ADR 0013) sees it, and the contact's line keeps one reply in flight.
import { expect } from 'chai';
import { createActionHandlers } from '../../src/actions/action-handlers.js';
import type { ActionRun } from '../../src/actions/action-run-repository.js';
import type { CoreDeps } from '../../src/app-deps.js';
import { lockContactForStep } from '../../src/conversations/contact-lock.js';
import { FILE_DOWNLOAD_TYPE } from '../../src/effects/file-received-effect.js';
import { FileTooLargeError } from '../../src/files/file-storage.js';
import type { TestDatabase } from '../support/test-database.js';
import { buildTestDeps } from '../support/test-deps.js';
import { insertFlow, insertInbound } from '../support/flow-builder.js';
import { createTestStepEngine } from '../support/test-step-engine.js';

describe('file too large: the refusal waits for the contact step lock', () => {
  let deps: CoreDeps & { testDb: TestDatabase };
  before(async () => {
    deps = await buildTestDeps({ MESSAGE_COOLDOWN: '0' });
    await insertFlow(deps.db, [{ name: 'Envio', keywords: ['oi'], messages: [{ text: 'Mande o arquivo', waitForFile: true, expectedFileTypes: ['pdf'] }] }]);
  });
  after(() => deps.testDb.drop());

  it('writes its reply only once a step holding the contact has committed', async () => {
    const contactId = 4_242;
    const inbound = await insertInbound(deps.db, { contactId, body: 'oi' });
    await createTestStepEngine(deps).runBatch();
    const conversation = await deps.db('user_conversations').where({ contact_id: contactId }).first('id');
    const [file] = await deps.db('received_files')
      .insert({ conversation_id: conversation.id, message_history_id: inbound, contact_id: contactId, file_name: 'enorme.pdf', media_url: 'http://127.0.0.1:9/enorme.pdf' })
      .returning('id');
    const handlers = createActionHandlers({
      db: deps.db,
      maxFileBytes: 1024,
      downloader: { download: () => Promise.reject(new FileTooLargeError(1024)) },
    } as unknown as Parameters<typeof createActionHandlers>[0]);
    const run = {
      id: 1,
      conversation_id: conversation.id,
      contact_id: contactId,
      ticket_id: 77,
      contact_name: 'Ana',
      contact_number: '5511',
      flow_message_id: null,
      action: { message_history_id: inbound, url: 'http://127.0.0.1:9/enorme.pdf' },
    } as unknown as ActionRun;
    const refusals = () => deps.db('message_history').where({ contact_id: contactId, reason: 'file_too_large' }).count<{ n: string }[]>({ n: '*' });

    let releaseStep!: () => void;
    const stepHolds = new Promise<void>((resolve) => (releaseStep = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const step = deps.db.transaction(async (trx) => {
      await lockContactForStep(trx, contactId);
      locked();
      await stepHolds;
    });
    await lockTaken;
    let refusal: Promise<string>;
    try {
      refusal = handlers[FILE_DOWNLOAD_TYPE]!(run).then(
        () => 'resolved',
        (error: Error) => error.message,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(Number((await refusals())[0]!.n), 'written while a step held the contact').to.equal(0);
    } finally {
      releaseStep();
      await step;
    }
    expect(await refusal).to.match(/refused, the contact was told/);
    expect(Number((await refusals())[0]!.n)).to.equal(1);
    expect((await deps.db('received_files').where({ id: file.id }).first()).download_status).to.equal('too_large');
  });
});
