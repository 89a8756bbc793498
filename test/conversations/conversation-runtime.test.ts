// processContact against a real database with a pinned clock: what one run writes.
import { expect } from 'chai';
import type { CoreDeps } from '../../src/app-deps.js';
import { createConversationRuntime, type ConversationRuntime } from '../../src/conversations/conversation-runtime.js';
import type { TestDatabase } from '../support/test-database.js';
import { buildTestDeps } from '../support/test-deps.js';
import { insertFlow, insertInbound, type InsertedFlow } from '../support/flow-builder.js';

const NOW = Date.parse('2026-11-24T15:00:00Z');

describe('conversation runtime', () => {
  let deps: CoreDeps & { testDb: TestDatabase };
  let runtime: ConversationRuntime;
  let flow: InsertedFlow;
  let clock = NOW;
  let nextContact = 1_000;

  before(async () => {
    deps = await buildTestDeps({ MESSAGE_COOLDOWN: '0' });
    runtime = createConversationRuntime({ ...deps, now: () => clock });
    flow = await insertFlow(deps.db, [
      {
        name: 'Boas-vindas',
        keywords: ['menu'],
        messages: [
          { text: 'Olá, {{contact_name}}!', waitForResponse: false },
          { text: 'Um momento...', waitForResponse: false, delaySeconds: 2 },
          { text: 'Menu: 1 orçamento, 2 fim', delaySeconds: 3 },
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
    ]);
  });
  beforeEach(() => {
    clock = NOW;
    nextContact += 1;
  });
  after(() => deps.testDb.drop());

  const outbound = (contactId: number) =>
    deps.db('message_history').where({ contact_id: contactId, direction: 'outbound' }).orderBy('id');
  const conversations = (contactId: number) => deps.db('user_conversations').where({ contact_id: contactId }).orderBy('id');
  const jobs = (key: string) =>
    deps.db.raw('SELECT task_identifier, run_at FROM graphile_worker.jobs WHERE key = ?', [key]).then((r) => r.rows);

  /** Marks the contact's pending replies as sent, as the delivery job would. */
  const deliverAll = (contactId: number) =>
    deps.db('message_history')
      .where({ contact_id: contactId, status: 'pending' })
      .update({ status: 'sent', sent_at: new Date(clock) });

  it('greets a new contact by name and queues the chain at each message delay', async () => {
    const contactId = nextContact;
    const inboundId = await insertInbound(deps.db, { contactId, body: 'oi', name: 'Joana', ticketId: 777 });
    expect(await runtime.processContact(contactId)).to.deep.equal({ kind: 'processed', inputs: 1, replies: 3 });

    const rows = await outbound(contactId);
    expect(rows.map((row) => row.body)).to.deep.equal(['Olá, Joana!', 'Um momento...', 'Menu: 1 orçamento, 2 fim']);
    expect(rows.map((row) => new Date(row.due_at).getTime() - NOW)).to.deep.equal([0, 2_000, 5_000]);
    expect(rows.every((row) => row.status === 'pending' && row.ticket_id === 777 && row.reason === 'flow')).to.equal(true);
    expect(rows.map((row) => row.flow_message_id)).to.deep.equal(flow.messageIds['Boas-vindas']);

    const [conversation] = await conversations(contactId);
    expect(conversation).to.include({
      is_active: true,
      flow_id: flow.flowId,
      current_subflow_id: flow.subflowIds['Boas-vindas'],
      current_message_id: flow.messageIds['Boas-vindas']![2],
      contact_name: 'Joana',
    });
    const [inbound] = await deps.db('message_history').where({ id: inboundId });
    expect(inbound).to.include({ status: 'processed', conversation_id: conversation.id });

    const delivery = await jobs(`deliver:${contactId}`);
    expect(delivery).to.have.length(1);
    expect(delivery[0].task_identifier).to.equal('deliver_contact');
    expect(new Date(delivery[0].run_at).getTime()).to.equal(NOW);
    const actions = await deps.db('activity_logs').where({ contact_id: contactId }).pluck('action');
    expect(actions).to.deep.equal(['conversation.started']);
  });

  it('leaves new input waiting while the chain is still due, then answers the right prompt', async () => {
    const contactId = nextContact;
    await insertInbound(deps.db, { contactId, body: 'oi' });
    await runtime.processContact(contactId);
    const early = await insertInbound(deps.db, { contactId, body: '1' });
    clock = NOW + 1_000;
    const outcome = await runtime.processContact(contactId);
    expect(outcome).to.deep.equal({ kind: 'deferred', until: new Date(NOW + 5_000) });
    expect((await deps.db('message_history').where({ id: early }))[0].status).to.equal('received');
    const processJob = await jobs(`contact:${contactId}`);
    expect(new Date(processJob[0].run_at).getTime()).to.equal(NOW + 5_000);

    clock = NOW + 5_000;
    await deliverAll(contactId);
    expect(await runtime.processContact(contactId)).to.deep.equal({ kind: 'processed', inputs: 1, replies: 1 });
    expect((await outbound(contactId)).at(-1)).to.include({ body: 'Seu nome?', status: 'pending' });
    const actions = await deps.db('activity_logs').where({ contact_id: contactId }).orderBy('id').pluck('action');
    expect(actions).to.deep.equal(['conversation.started', 'keyword.matched']);
  });

  it('joins a burst of texts into one input and handles each file on its own, in order', async () => {
    const contactId = nextContact;
    await insertInbound(deps.db, { contactId, body: 'oi' });
    await runtime.processContact(contactId);
    await deliverAll(contactId);
    await insertInbound(deps.db, { contactId, body: '1' });
    await runtime.processContact(contactId);
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
    expect(await runtime.processContact(contactId)).to.deep.equal({ kind: 'processed', inputs: 3, replies: 2 });
    expect((await outbound(contactId)).slice(-2).map((row) => row.body)).to.deep.equal([
      'Envie o PDF, Maria\nda Silva.',
      'Recebido!',
    ]);
    const [conversation] = await conversations(contactId);
    expect(conversation.variables).to.deep.equal({ nome: 'Maria\nda Silva' });
    const files = await deps.db('received_files').where({ contact_id: contactId });
    expect(files).to.have.length(1);
    expect(files[0]).to.include({
      conversation_id: conversation.id,
      message_history_id: fileRow,
      file_name: 'projeto final.pdf',
      file_type: 'pdf',
    });
  });

  it('starts a new conversation for input left after one completes', async () => {
    const contactId = nextContact;
    await insertInbound(deps.db, { contactId, body: 'oi' });
    await runtime.processContact(contactId);
    await deliverAll(contactId);
    await insertInbound(deps.db, { contactId, body: '2' });
    await insertInbound(deps.db, { contactId, body: 'arquivo', mediaType: 'application', mediaPath: 'a.pdf' });
    await runtime.processContact(contactId);
    const rows = await conversations(contactId);
    expect(rows.map((row) => [row.is_active, row.is_completed])).to.deep.equal([
      [false, true],
      [true, false],
    ]);
    expect(rows[0].completed_at).to.not.equal(null);
    expect((await outbound(contactId)).slice(3).map((row) => row.body)).to.deep.equal([
      'Tchau!',
      'Olá, Maria Souza!',
      'Um momento...',
      'Menu: 1 orçamento, 2 fim',
    ]);
  });

  it('closes a conversation idle past the timeout and starts a new one', async () => {
    const contactId = nextContact;
    await insertInbound(deps.db, { contactId, body: 'oi' });
    await runtime.processContact(contactId);
    await deliverAll(contactId);
    await deps.db('user_conversations')
      .where({ contact_id: contactId })
      .update({ last_activity_at: new Date(NOW - 1441 * 60_000) });
    await insertInbound(deps.db, { contactId, body: '1' });
    await runtime.processContact(contactId);
    const rows = await conversations(contactId);
    expect(rows.map((row) => [row.is_active, row.closed_reason])).to.deep.equal([
      [false, 'timeout'],
      [true, null],
    ]);
    // The message after the timeout is a first message: it greets, it is not a keyword.
    expect((await outbound(contactId)).at(-1)!.body).to.equal('Menu: 1 orçamento, 2 fim');
  });

  it('waits out MESSAGE_COOLDOWN after the previous reply', async () => {
    await deps.settings.update('MESSAGE_COOLDOWN', { value: 5 }, 'test');
    try {
      const contactId = nextContact;
      await insertInbound(deps.db, { contactId, body: 'oi' });
      await runtime.processContact(contactId);
      clock = NOW + 6_000;
      await deliverAll(contactId);
      clock = NOW + 7_000;
      await insertInbound(deps.db, { contactId, body: 'não sei' });
      await runtime.processContact(contactId);
      const last = (await outbound(contactId)).at(-1)!;
      expect(last).to.include({ body: 'Menu: 1 orçamento, 2 fim', reason: 'reprompt' });
      expect(new Date(last.due_at).getTime()).to.equal(NOW + 11_000);
    } finally {
      await deps.settings.update('MESSAGE_COOLDOWN', { value: 0 }, 'test');
    }
  });

  it('keeps a conversation on its flow version after the flow is edited', async () => {
    const first = nextContact;
    const second = nextContact + 500;
    await insertInbound(deps.db, { contactId: first, body: 'oi' });
    await runtime.processContact(first);
    await deliverAll(first);

    await deps.db('flow_messages')
      .where({ id: flow.messageIds['Orçamento']![0] })
      .update({ message_text: 'Como você se chama? (nova versão)' });
    await insertInbound(deps.db, { contactId: first, body: '1' });
    await runtime.processContact(first);
    expect((await outbound(first)).at(-1)!.body).to.equal('Seu nome?');

    await insertInbound(deps.db, { contactId: second, body: 'oi' });
    await runtime.processContact(second);
    await deliverAll(second);
    await insertInbound(deps.db, { contactId: second, body: '1' });
    await runtime.processContact(second);
    expect((await outbound(second)).at(-1)!.body).to.equal('Como você se chama? (nova versão)');

    const [a] = await conversations(first);
    const [b] = await conversations(second);
    expect(a.flow_version_id).to.not.equal(b.flow_version_id);
    await deps.db('flow_messages').where({ id: flow.messageIds['Orçamento']![0] }).update({ message_text: 'Seu nome?' });
  });

  it('leaves messages in the inbox when there is no default flow', async () => {
    const contactId = nextContact;
    await deps.db('flows').where({ id: flow.flowId }).update({ is_default: false });
    try {
      const id = await insertInbound(deps.db, { contactId, body: 'oi' });
      const outcome = await runtime.processContact(contactId);
      expect(outcome).to.include({ kind: 'blocked', inputs: 1 });
      expect((await deps.db('message_history').where({ id }))[0].status).to.equal('received');
    } finally {
      await deps.db('flows').where({ id: flow.flowId }).update({ is_default: true });
    }
    expect(await runtime.processContact(contactId)).to.include({ kind: 'processed' });
  });

  it('does nothing for a contact with an empty inbox', async () => {
    expect(await runtime.processContact(nextContact)).to.deep.equal({ kind: 'idle' });
  });
});
