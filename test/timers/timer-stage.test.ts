// The timer stage against a real database (ADR 0007): timers written by steps, fired through the
// step path, cancelled by inputs, pauses and the contact writing first; an input and a timer
// racing for one conversation give exactly one outcome.
import { expect } from 'chai';
import type { CoreDeps } from '../../src/app-deps.js';
import { createConversationAdminService } from '../../src/conversations/conversation-admin-service.js';
import type { StepEngine } from '../../src/conversations/step-engine.js';
import { createFlowVersionStore } from '../../src/flows/flow-versions.js';
import { createTimerStage, type TimerStage } from '../../src/timers/timer-stage.js';
import { insertFlow, insertInbound } from '../support/flow-builder.js';
import type { TestDatabase } from '../support/test-database.js';
import { buildTestDeps } from '../support/test-deps.js';
import { createTestStepEngine } from '../support/test-step-engine.js';

const MENU = 'Menu: 1 orçamento';
const REMINDER = 'Ainda aí?';

describe('timer stage', () => {
  let deps: CoreDeps & { testDb: TestDatabase };
  let engine: StepEngine;
  let stage: TimerStage;
  let nextContact = 5_000;

  before(async () => {
    deps = await buildTestDeps({ MESSAGE_COOLDOWN: '0' });
    // Rows are due at the database's now(): the engines' clock runs a little ahead of it.
    const now = () => Date.now() + 1_000;
    engine = createTestStepEngine(deps, { now });
    stage = createTimerStage({ ...deps, flowVersions: createFlowVersionStore(deps), options: { batchSize: 64, idlePollMs: 1_000 }, now });
    const flow = await insertFlow(deps.db, [
      { name: 'Início', messages: [{ text: MENU }] },
      { name: 'Um', keywords: ['1'], messages: [{ text: 'Qual ambiente?' }] },
    ]);
    await deps.db('flow_messages').where({ id: flow.messageIds['Início']![0] }).update({ reminder_after_minutes: 1, reminder_text: REMINDER });
  });
  after(() => deps.testDb.drop());

  const outbound = async (contactId: number) =>
    (await deps.db('message_history').where({ contact_id: contactId, direction: 'outbound' }).orderBy('id').select('body')).map((row) => row.body as string);
  const timers = (contactId: number) => deps.db('conversation_timers').where({ contact_id: contactId }).orderBy('id').select('id', 'status', 'outcome', 'send_id', 'due_at');
  const makeDue = (contactId: number) =>
    deps.db('conversation_timers').where({ contact_id: contactId, status: 'pending' }).update({ due_at: deps.db.raw("now() - interval '1 second'") });

  async function greeted(): Promise<number> {
    nextContact += 1;
    await insertInbound(deps.db, { contactId: nextContact, body: 'Oi' });
    await engine.runBatch();
    expect(await outbound(nextContact)).to.deep.equal([MENU]);
    return nextContact;
  }

  it('a step stores the delayed event as a pending row due after the delay', async () => {
    const contactId = await greeted();
    const [row] = await timers(contactId);
    expect(row).to.include({ status: 'pending', send_id: 'xstate.after.60000.flow_1.sf_1.msg_1.silence' });
    const inMs = new Date(row!.due_at).getTime() - Date.now();
    expect(inMs).to.be.within(55_000, 61_000);
  });

  it('fires a due timer once: the reminder goes to the outbox, the row is fired', async () => {
    const contactId = await greeted();
    await makeDue(contactId);
    const report = await stage.runBatch();
    expect(report).to.include({ fired: 1 });
    expect(await outbound(contactId)).to.deep.equal([MENU, REMINDER]);
    expect((await timers(contactId)).map((row) => row.status)).to.deep.equal(['fired']);
    await stage.runBatch();
    expect(await outbound(contactId)).to.deep.equal([MENU, REMINDER]);
  });

  it('an input cancels the pending timer and sets a new one', async () => {
    const contactId = await greeted();
    await insertInbound(deps.db, { contactId, body: 'hmm' });
    await engine.runBatch();
    expect((await timers(contactId)).map((row) => [row.status, row.outcome])).to.deep.equal([
      ['cancelled', 'cancelled by a step'],
      ['pending', null],
    ]);
  });

  it('a contact who wrote before the timer came due wins: the timer is cancelled, not fired', async () => {
    const contactId = await greeted();
    // The input arrived a while ago but is still in its debounce window.
    await deps.db('message_history').insert({
      contact_id: contactId,
      ticket_id: contactId + 1000,
      direction: 'inbound',
      body: 'oi?',
      media_type: 'text',
      status: 'received',
      created_at: deps.db.raw("now() - interval '5 seconds'"),
      due_at: deps.db.raw("now() + interval '1 minute'"),
    });
    await makeDue(contactId);
    await stage.runBatch();
    expect(await outbound(contactId)).to.deep.equal([MENU]);
    expect((await timers(contactId)).map((row) => [row.status, row.outcome])).to.deep.equal([['cancelled', 'the contact wrote first']]);
  });

  it('pause drops the pending timers', async () => {
    const contactId = await greeted();
    const conversation = await deps.db('user_conversations').where({ contact_id: contactId, is_active: true }).first();
    await createConversationAdminService(deps).pause(Number(conversation.id));
    expect((await timers(contactId)).map((row) => [row.status, row.outcome])).to.deep.equal([['cancelled', 'conversation.paused']]);
  });

  it('an input and a due timer racing for one conversation give exactly one consistent outcome', async () => {
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 12; round += 1) {
      const contactId = await greeted();
      await makeDue(contactId);
      await insertInbound(deps.db, { contactId, body: 'hmm' });
      await Promise.all([stage.runBatch(), engine.runBatch()]);
      // Whichever lost its lock try runs again, as its loop would.
      await Promise.all([stage.runBatch(), engine.runBatch()]);
      const sent = await outbound(contactId);
      expect([
        [MENU, REMINDER, MENU],
        [MENU, MENU],
      ]).to.deep.include(sent);
      const rows = await timers(contactId);
      expect(rows.filter((row) => row.status === 'pending')).to.have.length(1);
      expect(rows.filter((row) => row.status === 'fired').length).to.equal(sent.includes(REMINDER) ? 1 : 0);
      const key = sent.join(' | ');
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    console.log(`      outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  });
});
