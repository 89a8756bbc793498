// The batched step engine against a real database with a pinned clock: what one batch writes.
import { expect } from 'chai';
import type { CoreDeps } from '../../src/app-deps.js';
import type { ClaimedReply } from '../../src/deliveries/outbox-repository.js';
import type { SendReservation } from '../../src/deliveries/send-stage.js';
import { createConversationAdminService } from '../../src/conversations/conversation-admin-service.js';
import type { StepEngine } from '../../src/conversations/step-engine.js';
import type { TestDatabase } from '../support/test-database.js';
import { buildTestDeps } from '../support/test-deps.js';
import { insertFlow, insertInbound, type InsertedFlow } from '../support/flow-builder.js';
import { createTestStepEngine } from '../support/test-step-engine.js';

describe('step engine', () => {
  let deps: CoreDeps & { testDb: TestDatabase };
  let engine: StepEngine;
  let flow: InsertedFlow;
  // Inbox rows are due at the database's now(): the pinned clock starts just after it.
  let NOW = Date.now();
  let clock = NOW;
  let nextContact = 1_000;

  before(async () => {
    deps = await buildTestDeps({ MESSAGE_COOLDOWN: '0' });
    engine = createTestStepEngine(deps, { now: () => clock });
    flow = await insertFlow(deps.db, [
      {
        name: 'Boas-vindas',
        keywords: ['menu'],
        messages: [
          { text: 'Olá, {{contact_name}}!', waitForResponse: false },
          { text: 'Um momento...', waitForResponse: false, delaySeconds: 2 },
          { text: 'Menu: 1 orçamento, 2 fim, quem', delaySeconds: 3 },
        ],
      },
      {
        name: 'Orçamento',
        keywords: ['1'],
        messages: [
          { text: 'Seu nome?', saveResponseAs: 'nome' },
          { text: 'Envie o PDF, {{nome}}.', waitForFile: true, expectedFileTypes: ['pdf'] },
          { text: 'Recebido!' },
        ],
      },
      { name: 'Fim', keywords: ['2'], messages: [{ text: 'Tchau!', waitForResponse: false }] },
      { name: 'Quem', keywords: ['quem'], messages: [{ text: 'Você é {{contact_name}}.' }] },
    ]);
  });
  beforeEach(() => {
    NOW = Date.now() + 1_000;
    clock = NOW;
    nextContact += 1;
  });
  after(() => deps.testDb.drop());

  const outbound = (contactId: number) =>
    deps.db('message_history').where({ contact_id: contactId, direction: 'outbound' }).orderBy('id');
  const conversations = (contactId: number) => deps.db('user_conversations').where({ contact_id: contactId }).orderBy('id');
  /** Marks the contact's pending replies as sent, as the send stage would. */
  const deliverAll = (contactId: number) =>
    deps.db('message_history').where({ contact_id: contactId, status: 'pending' }).update({ status: 'sent', sent_at: new Date(clock) });
  const outcomeOf = async (contactId: number) => (await engine.runBatch()).outcomes.get(contactId);

  it('greets a new contact by name and queues the chain at each message delay', async () => {
    const contactId = nextContact;
    const inboundId = await insertInbound(deps.db, { contactId, body: 'oi', name: 'Joana', ticketId: 777 });
    expect(await outcomeOf(contactId)).to.deep.equal({ kind: 'processed', inputs: 1, replies: 3 });

    const rows = await outbound(contactId);
    expect(rows.map((row) => row.body)).to.deep.equal(['Olá, Joana!', 'Um momento...', 'Menu: 1 orçamento, 2 fim, quem']);
    expect(rows.map((row) => new Date(row.due_at).getTime() - NOW)).to.deep.equal([0, 2_000, 5_000]);
    expect(rows.every((row) => row.status === 'pending' && Number(row.ticket_id) === 777 && row.reason === 'flow')).to.equal(true);
    expect(rows.map((row) => row.flow_message_id)).to.deep.equal(flow.messageIds['Boas-vindas']);

    const [conversation] = await conversations(contactId);
    expect(conversation).to.include({
      is_active: true,
      flow_id: flow.flowId,
      current_subflow_id: flow.subflowIds['Boas-vindas'],
      current_message_id: flow.messageIds['Boas-vindas']![2],
      contact_name: 'Joana',
    });
    expect(rows.every((row) => row.conversation_id === conversation.id)).to.equal(true);
    const [inbound] = await deps.db('message_history').where({ id: inboundId });
    expect(inbound).to.include({ status: 'processed', conversation_id: conversation.id });
    const actions = await deps.db('activity_logs').where({ contact_id: contactId }).pluck('action');
    expect(actions).to.deep.equal(['conversation.started']);
  });

  it('steps many contacts in one batch, each into its own conversation', async () => {
    const contacts = Array.from({ length: 20 }, (_, index) => nextContact * 100 + index);
    for (const contactId of contacts) await insertInbound(deps.db, { contactId, body: 'oi' });
    const report = await engine.runBatch();
    expect(report.claimed).to.equal(20);
    const started = await deps.db('user_conversations').whereIn('contact_id', contacts).select('id', 'contact_id');
    expect(new Set(started.map((row) => row.id)).size).to.equal(20);
    for (const row of started) {
      const replies = await outbound(Number(row.contact_id));
      expect(replies.map((reply) => reply.conversation_id)).to.deep.equal([row.id, row.id, row.id]);
    }
  });

  it('answers a new input at once: delayed replies of the earlier step are superseded', async () => {
    const contactId = nextContact;
    await insertInbound(deps.db, { contactId, body: 'oi' });
    await engine.runBatch();
    clock = NOW + 1_000;
    await insertInbound(deps.db, { contactId, body: '1' });
    expect(await outcomeOf(contactId)).to.deep.equal({ kind: 'processed', inputs: 1, replies: 1 });
    const rows = await outbound(contactId);
    expect(rows.map((row) => [row.body, row.status])).to.deep.equal([
      ['Olá, Maria Souza!', 'pending'],
      ['Um momento...', 'cancelled'],
      ['Menu: 1 orçamento, 2 fim, quem', 'cancelled'],
      ['Seu nome?', 'pending'],
    ]);
    expect(rows[1].last_error).to.equal('superseded by a newer input');
    // It follows the reply that stays (due at NOW), not the cancelled ones (due later).
    expect(new Date(rows[3].due_at).getTime()).to.equal(clock);
  });

  it('keeps replies due within the cooldown and sends the new ones after them', async () => {
    await deps.settings.update('MESSAGE_COOLDOWN', { value: 3 }, 'test');
    try {
      const contactId = nextContact;
      await insertInbound(deps.db, { contactId, body: 'oi' });
      await engine.runBatch();
      clock = NOW + 1_000;
      await insertInbound(deps.db, { contactId, body: '1' });
      await engine.runBatch();
      const rows = await outbound(contactId);
      // Due at NOW+2 s: within now + 3 s, kept; due at NOW+5 s: cancelled.
      expect(rows.map((row) => row.status)).to.deep.equal(['pending', 'pending', 'cancelled', 'pending']);
      expect(new Date(rows[3].due_at).getTime() - NOW).to.equal(2_000 + 3_000);
    } finally {
      await deps.settings.update('MESSAGE_COOLDOWN', { value: 0 }, 'test');
    }
  });

  it('joins a burst of texts into one input and handles each file on its own, in order', async () => {
    const contactId = nextContact;
    await insertInbound(deps.db, { contactId, body: 'oi' });
    await engine.runBatch();
    await deliverAll(contactId);
    await insertInbound(deps.db, { contactId, body: '1' });
    await engine.runBatch();
    await deliverAll(contactId);

    await insertInbound(deps.db, { contactId, body: 'Maria' });
    await insertInbound(deps.db, { contactId, body: 'da Silva' });
    const fileRow = await insertInbound(deps.db, {
      contactId,
      body: 'segue',
      mediaType: 'application',
      mediaPath: null,
      mediaUrl: 'https://tenant.example/media/projeto%20final.pdf',
    });
    expect(await outcomeOf(contactId)).to.deep.equal({ kind: 'processed', inputs: 3, replies: 2 });
    expect((await outbound(contactId)).slice(-2).map((row) => row.body)).to.deep.equal(['Envie o PDF, Maria\nda Silva.', 'Recebido!']);
    const [conversation] = await conversations(contactId);
    expect(conversation.variables).to.deep.equal({ nome: 'Maria\nda Silva' });
    const files = await deps.db('received_files').where({ contact_id: contactId });
    expect(files).to.have.length(1);
    expect(files[0]).to.include({ conversation_id: conversation.id, message_history_id: fileRow, file_name: 'projeto final.pdf', file_type: 'pdf' });
  });

  it('starts a new conversation for input left after one completes, in the same batch', async () => {
    const contactId = nextContact;
    await insertInbound(deps.db, { contactId, body: 'oi' });
    await engine.runBatch();
    await deliverAll(contactId);
    await insertInbound(deps.db, { contactId, body: '2' });
    await insertInbound(deps.db, { contactId, body: 'arquivo', mediaType: 'application', mediaPath: 'a.pdf' });
    await engine.runBatch();
    const rows = await conversations(contactId);
    expect(rows.map((row) => [row.is_active, row.is_completed])).to.deep.equal([
      [false, true],
      [true, false],
    ]);
    expect(rows[0].completed_at).to.not.equal(null);
    expect((await outbound(contactId)).slice(3).map((row) => [row.body, row.conversation_id])).to.deep.equal([
      ['Tchau!', rows[0].id],
      ['Olá, Maria Souza!', rows[1].id],
      ['Um momento...', rows[1].id],
      ['Menu: 1 orçamento, 2 fim, quem', rows[1].id],
    ]);
  });

  it('closes a conversation idle past the timeout and starts a new one in the same batch', async () => {
    const contactId = nextContact;
    await insertInbound(deps.db, { contactId, body: 'oi' });
    await engine.runBatch();
    await deliverAll(contactId);
    await deps.db('user_conversations').where({ contact_id: contactId }).update({ last_activity_at: new Date(NOW - 1441 * 60_000) });
    await insertInbound(deps.db, { contactId, body: '1' });
    await engine.runBatch();
    const rows = await conversations(contactId);
    expect(rows.map((row) => [row.is_active, row.closed_reason])).to.deep.equal([
      [false, 'timeout'],
      [true, null],
    ]);
    // The message after the timeout is a first message: it greets, it is not a keyword.
    expect((await outbound(contactId)).at(-1)!.body).to.equal('Menu: 1 orçamento, 2 fim, quem');
    const actions = await deps.db('activity_logs').where({ contact_id: contactId }).orderBy('id').pluck('action');
    expect(actions).to.deep.equal(['conversation.started', 'conversation.timeout', 'conversation.started']);
  });

  it('waits out MESSAGE_COOLDOWN after the previous reply', async () => {
    await deps.settings.update('MESSAGE_COOLDOWN', { value: 5 }, 'test');
    try {
      const contactId = nextContact;
      await insertInbound(deps.db, { contactId, body: 'oi' });
      await engine.runBatch();
      clock = NOW + 6_000;
      await deliverAll(contactId);
      clock = NOW + 7_000;
      await insertInbound(deps.db, { contactId, body: 'não sei' });
      await engine.runBatch();
      const last = (await outbound(contactId)).at(-1)!;
      expect(last).to.include({ body: 'Menu: 1 orçamento, 2 fim, quem', reason: 'reprompt' });
      expect(new Date(last.due_at).getTime()).to.equal(NOW + 11_000);
    } finally {
      await deps.settings.update('MESSAGE_COOLDOWN', { value: 0 }, 'test');
    }
  });

  it('uses the newest contact name GOSAC sent, not the one of the first message', async () => {
    const contactId = nextContact;
    await insertInbound(deps.db, { contactId, body: 'oi', name: '' });
    await engine.runBatch();
    expect((await outbound(contactId))[0].body).to.equal('Olá, !');
    await deliverAll(contactId);
    await insertInbound(deps.db, { contactId, body: 'quem', name: 'Joana Prado' });
    await engine.runBatch();
    expect((await outbound(contactId)).at(-1)!.body).to.equal('Você é Joana Prado.');
    expect((await conversations(contactId))[0].contact_name).to.equal('Joana Prado');
  });

  it('keeps a conversation on its flow version after the flow is edited', async () => {
    const first = nextContact;
    const second = nextContact + 500;
    await insertInbound(deps.db, { contactId: first, body: 'oi' });
    await engine.runBatch();
    await deliverAll(first);
    await deps.db('flow_messages').where({ id: flow.messageIds['Orçamento']![0] }).update({ message_text: 'Como você se chama? (nova versão)' });
    try {
      await insertInbound(deps.db, { contactId: first, body: '1' });
      await engine.runBatch();
      expect((await outbound(first)).at(-1)!.body).to.equal('Seu nome?');
      await insertInbound(deps.db, { contactId: second, body: 'oi' });
      await engine.runBatch();
      await deliverAll(second);
      await insertInbound(deps.db, { contactId: second, body: '1' });
      await engine.runBatch();
      expect((await outbound(second)).at(-1)!.body).to.equal('Como você se chama? (nova versão)');
      const [a] = await conversations(first);
      const [b] = await conversations(second);
      expect(a.flow_version_id).to.not.equal(b.flow_version_id);
    } finally {
      await deps.db('flow_messages').where({ id: flow.messageIds['Orçamento']![0] }).update({ message_text: 'Seu nome?' });
    }
  });

  it('keeps the inputs and retries later with backoff when there is no default flow', async () => {
    const contactId = nextContact;
    await deps.db('flows').where({ id: flow.flowId }).update({ is_default: false });
    let id: number;
    try {
      id = await insertInbound(deps.db, { contactId, body: 'oi' });
      expect(await outcomeOf(contactId)).to.deep.equal({ kind: 'failed', error: 'no active default flow' });
      const [row] = await deps.db('message_history').where({ id });
      expect(row).to.include({ status: 'received', attempts: 1, last_error: 'no active default flow' });
      expect(new Date(row.due_at).getTime()).to.equal(clock + 1_000);
      // Not due again before its retry time.
      expect((await engine.runBatch()).outcomes.has(contactId)).to.equal(false);
    } finally {
      await deps.db('flows').where({ id: flow.flowId }).update({ is_default: true });
    }
    clock += 1_000;
    expect(await outcomeOf(contactId)).to.deep.equal({ kind: 'processed', inputs: 1, replies: 3 });
    expect((await deps.db('message_history').where({ id: id! }))[0].status).to.equal('processed');
  });

  it('steps the rest of a batch when one contact cannot be answered', async () => {
    const [broken, fine1, fine2] = [nextContact * 10, nextContact * 10 + 1, nextContact * 10 + 2];
    // A conversation pinned to a version whose stored definition no longer parses.
    const [version] = await deps.db('flow_versions')
      .insert({ flow_id: flow.flowId, content_hash: `broken-${broken}`, definition: JSON.stringify({ nonsense: true }), machine_config: '{}' })
      .returning('id');
    await deps.db('user_conversations').insert({ contact_id: broken, flow_id: flow.flowId, flow_version_id: version.id, conversation_state: '{}' });
    const brokenRow = await insertInbound(deps.db, { contactId: broken, body: 'oi' });
    await insertInbound(deps.db, { contactId: fine1, body: 'oi' });
    await insertInbound(deps.db, { contactId: fine2, body: 'oi' });

    const report = await engine.runBatch();
    expect(report.outcomes.get(fine1)).to.deep.equal({ kind: 'processed', inputs: 1, replies: 3 });
    expect(report.outcomes.get(fine2)).to.deep.equal({ kind: 'processed', inputs: 1, replies: 3 });
    expect(report.outcomes.get(broken)).to.include({ kind: 'failed' });
    const [row] = await deps.db('message_history').where({ id: brokenRow });
    expect(row).to.include({ status: 'received', attempts: 1 });
    expect(row.last_error).to.be.a('string').and.not.equal('');
  });

  it('writes contacts one by one when the database refuses one contact of the batch', async () => {
    const [refused, fine] = [nextContact * 10, nextContact * 10 + 1];
    await deps.db.raw(`CREATE OR REPLACE FUNCTION refuse_contact_reply() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.contact_id = ${refused} AND NEW.direction = 'outbound' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`);
    await deps.db.raw('CREATE TRIGGER refuse_contact_reply BEFORE INSERT ON message_history FOR EACH ROW EXECUTE FUNCTION refuse_contact_reply()');
    try {
      const refusedRow = await insertInbound(deps.db, { contactId: refused, body: 'oi' });
      await insertInbound(deps.db, { contactId: fine, body: 'oi' });
      const report = await engine.runBatch();
      expect(report.outcomes.get(fine)).to.deep.equal({ kind: 'processed', inputs: 1, replies: 3 });
      expect(report.outcomes.get(refused)).to.include({ kind: 'failed' });
      expect((await outbound(fine)).map((reply) => reply.status)).to.deep.equal(['pending', 'pending', 'pending']);
      const [row] = await deps.db('message_history').where({ id: refusedRow });
      expect(row).to.include({ status: 'received', attempts: 1 });
      expect(row.last_error).to.match(/refused for the test/);
      expect(await conversations(refused)).to.have.length(0);
    } finally {
      await deps.db.raw('DROP TRIGGER refuse_contact_reply ON message_history');
    }
  });

  it('keeps a paused conversation silent and cancels what pause left unsent', async () => {
    const contactId = nextContact;
    await insertInbound(deps.db, { contactId, body: 'oi' });
    await engine.runBatch();
    const [conversation] = await conversations(contactId);
    await createConversationAdminService(deps).pause(conversation.id);
    expect((await outbound(contactId)).map((row) => row.status)).to.deep.equal(['cancelled', 'cancelled', 'cancelled']);
    await insertInbound(deps.db, { contactId, body: 'alguém aí?' });
    expect(await outcomeOf(contactId)).to.deep.equal({ kind: 'paused', inputs: 1 });
    expect(await outbound(contactId)).to.have.length(3);
  });

  it('cancels unsent replies on close and reset, but not one already in flight', async () => {
    for (const action of ['close', 'reset'] as const) {
      nextContact += 1;
      const contactId = nextContact;
      await insertInbound(deps.db, { contactId, body: 'oi' });
      await engine.runBatch();
      const [first] = await outbound(contactId);
      await deps.db('message_history').where({ id: first.id }).update({ claimed_until: new Date(Date.now() + 60_000) });
      const [conversation] = await conversations(contactId);
      await createConversationAdminService(deps)[action](conversation.id);
      expect((await outbound(contactId)).map((row) => row.status), action).to.deep.equal(['pending', 'cancelled', 'cancelled']);
    }
  });

  it('waits for the debounce window of the newest message', async () => {
    const contactId = nextContact;
    await insertInbound(deps.db, { contactId, body: 'oi' });
    const late = await insertInbound(deps.db, { contactId, body: 'tudo bem?' });
    await deps.db('message_history').where({ id: late }).update({ due_at: new Date(clock + 2_000) });
    expect((await engine.runBatch()).outcomes.has(contactId)).to.equal(false);
    clock += 2_000;
    expect(await outcomeOf(contactId)).to.deep.equal({ kind: 'processed', inputs: 2, replies: 3 });
  });

  describe('replies leased for the send stage as the batch writes them (ADR 0013)', () => {
    /** A send stage stand-in: grants up to `slots`, keeps what each batch started. */
    function fakeSends(slots: number) {
      const started: ClaimedReply[][] = [];
      let pokes = 0;
      const sends = {
        reserve: (limit: number): SendReservation => ({
          slots: Math.min(limit, slots),
          leaseMs: 30_000,
          start: (replies) => {
            started.push([...replies]);
          },
        }),
      };
      const leasing = createTestStepEngine(deps, { now: () => clock, sends, onReplies: () => (pokes += 1) });
      return { leasing, started, pokes: () => pokes };
    }
    const leaseOf = async (id: number) =>
      (await deps.db('message_history').where({ id }).first(deps.db.raw('claimed_until::text AS lease'), 'attempts')) as { lease: string | null; attempts: number };

    it("leases each contact's first reply due now, and only it", async () => {
      const { leasing, started, pokes } = fakeSends(64);
      const [joana, pedro] = [nextContact * 10, nextContact * 10 + 1];
      await insertInbound(deps.db, { contactId: joana, body: 'oi', name: 'Joana' });
      await insertInbound(deps.db, { contactId: pedro, body: 'oi', name: 'Pedro' });
      await leasing.runBatch();
      expect(started).to.have.length(1);
      const replies = started[0]!;
      expect(replies.map((reply) => [reply.contactId, reply.body, reply.attempts])).to.have.deep.members([
        [joana, 'Olá, Joana!', 1],
        [pedro, 'Olá, Pedro!', 1],
      ]);
      for (const reply of replies) {
        const [first, ...delayed] = await outbound(reply.contactId);
        expect(reply.id).to.equal(first.id);
        expect(reply.conversationId).to.equal(first.conversation_id);
        // The outcome write matches the lease text exactly.
        expect(await leaseOf(first.id)).to.deep.equal({ lease: reply.claimedUntil, attempts: 1 });
        for (const row of delayed) expect(await leaseOf(row.id)).to.deep.equal({ lease: null, attempts: 0 });
      }
      // The delayed replies of the chain are the claim's: the stage is poked for them.
      expect(pokes()).to.equal(1);
    });

    it('leases no more replies than the slots reserved; the rest wait for the claim', async () => {
      const { leasing, started, pokes } = fakeSends(1);
      const contacts = [nextContact * 10, nextContact * 10 + 1, nextContact * 10 + 2];
      for (const contactId of contacts) await insertInbound(deps.db, { contactId, body: 'oi' });
      await leasing.runBatch();
      expect(started.map((replies) => replies.length)).to.deep.equal([1]);
      const firsts = await Promise.all(contacts.map(async (contactId) => (await outbound(contactId))[0]));
      expect(firsts.filter((row) => row.claimed_until !== null).map((row) => row.id)).to.deep.equal([started[0]![0]!.id]);
      expect(pokes()).to.equal(1);
    });

    it("leases nothing behind a contact's reply still in flight, and nothing of a batch rolled back", async () => {
      const { leasing, started } = fakeSends(64);
      const contactId = nextContact;
      await insertInbound(deps.db, { contactId, body: 'oi' });
      await engine.runBatch();
      const [first] = await outbound(contactId);
      await deps.db('message_history').where({ id: first.id }).update({ claimed_until: new Date(Date.now() + 60_000), attempts: 1 });
      clock = NOW + 1_000;
      await insertInbound(deps.db, { contactId, body: '1' });
      expect((await leasing.runBatch()).outcomes.get(contactId)).to.deep.equal({ kind: 'processed', inputs: 1, replies: 1 });
      expect(started).to.deep.equal([[]]);
      const rows = await outbound(contactId);
      expect(rows.map((row) => [row.body, row.status, row.claimed_until === null])).to.deep.equal([
        ['Olá, Maria Souza!', 'pending', false],
        ['Um momento...', 'cancelled', true],
        ['Menu: 1 orçamento, 2 fim, quem', 'cancelled', true],
        ['Seu nome?', 'pending', true],
      ]);

      // A batch whose write fails is written contact by contact, without leases.
      const refused = nextContact * 10 + 7;
      const fine = nextContact * 10 + 8;
      await deps.db.raw(`CREATE OR REPLACE FUNCTION refuse_contact_reply() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.contact_id = ${refused} AND NEW.direction = 'outbound' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`);
      await deps.db.raw('CREATE TRIGGER refuse_contact_reply BEFORE INSERT ON message_history FOR EACH ROW EXECUTE FUNCTION refuse_contact_reply()');
      try {
        await insertInbound(deps.db, { contactId: refused, body: 'oi' });
        await insertInbound(deps.db, { contactId: fine, body: 'oi' });
        await leasing.runBatch();
      } finally {
        await deps.db.raw('DROP TRIGGER refuse_contact_reply ON message_history');
      }
      expect(started).to.deep.equal([[], []]);
      expect((await outbound(fine)).map((row) => [row.status, row.claimed_until])).to.deep.equal([
        ['pending', null],
        ['pending', null],
        ['pending', null],
      ]);
    });
  });
});
