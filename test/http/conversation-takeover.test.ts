// Pause / resume (a human agent takes over) and reset, end to end: real webhook, real worker,
// real database, replies at a fake GOSAC.
import { expect } from 'chai';
import { buildFlowThroughApi } from '../support/admin-flow-builder.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { textMessage } from '../support/webhook-payloads.js';

const MENU = 'Menu: 1 orçamento, 2 assistência';

describe('conversation takeover: pause, resume and reset end to end', function () {
  this.timeout(60_000);
  let gosac: FakeGosac;
  let service: TestService;
  let nextContact = 90_000;

  before(async () => {
    gosac = await startFakeGosac();
    service = await startTestService({ GOSAC_BASE_URL: gosac.url, GOSAC_AUTHORIZATION_KEY: 'INTEGRATION test-key' });
    await buildFlowThroughApi(service, [
      { name: 'Boas-vindas', messages: [{ text: 'Olá, {{contact_name}}!', waitForResponse: false }, { text: MENU }] },
      {
        name: 'Orçamento',
        keywords: ['1'],
        messages: [
          { text: 'Qual ambiente?', saveResponseAs: 'ambiente' },
          { text: 'Anotado: {{ambiente}}.', waitForResponse: false },
          { text: 'Qual o prazo?' },
        ],
      },
    ]);
  });
  after(async () => {
    await service?.stop();
    await gosac?.stop();
    await service?.testDb.drop();
  });

  function newContact() {
    nextContact += 1;
    return { contactId: nextContact, name: 'Maria', ticketId: nextContact + 1_000 };
  }
  type Contact = ReturnType<typeof newContact>;

  async function say(contact: Contact, text: string): Promise<void> {
    expect((await service.webhook(textMessage(contact, text))).body).to.deep.equal({ status: 'queued' });
  }
  async function replies(contact: Contact, count: number): Promise<string[]> {
    return (await gosac.waitForMessages(`/messages/${contact.ticketId}`, count)).map((request) => request.body.body);
  }
  const sentTo = (contact: Contact) => gosac.requestsTo(`/messages/${contact.ticketId}`).map((request) => request.body.body);

  async function activeConversationId(contact: Contact): Promise<number> {
    const answer = await service.admin('GET', `/api/conversations?contact_id=${contact.contactId}`);
    expect(answer.body).to.have.length(1);
    return answer.body[0].id;
  }

  /** Waits until the worker has taken every inbound message of the contact out of the inbox. */
  async function inboxDrained(contact: Contact): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const waiting = await service.testDb.db('message_history')
        .where({ contact_id: contact.contactId, direction: 'inbound', status: 'received' })
        .count<Array<{ count: string }>>({ count: '*' });
      if (Number(waiting[0]?.count) === 0) return;
      if (Date.now() > deadline) throw new Error('inbox not drained');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 600));

  it('while paused the bot sends nothing and the conversation stays put; resume continues from there', async () => {
    const contact = newContact();
    await say(contact, 'oi');
    await replies(contact, 2);
    await say(contact, '1');
    expect((await replies(contact, 3))[2]).to.equal('Qual ambiente?');
    const id = await activeConversationId(contact);
    const before = await service.testDb.db('user_conversations').where({ id }).first();

    expect((await service.admin('POST', `/api/conversations/${id}/pause`)).status).to.equal(200);
    await say(contact, 'cozinha');
    await say(contact, 'alguém aí? 2');
    await inboxDrained(contact);
    await settle();
    expect(sentTo(contact)).to.have.length(3);

    const during = await service.testDb.db('user_conversations').where({ id }).first();
    expect(during).to.include({ is_active: true, current_message_id: before.current_message_id });
    expect(during.conversation_state).to.deep.equal(before.conversation_state);
    expect(during.variables).to.deep.equal({});
    const history = await service.admin('GET', `/api/conversations/${id}/history`);
    const inbound = history.body.filter((row: any) => row.direction === 'inbound').map((row: any) => [row.body, row.status]);
    expect(inbound).to.deep.equal([
      ['oi', 'processed'],
      ['1', 'processed'],
      ['cozinha', 'processed'],
      ['alguém aí? 2', 'processed'],
    ]);

    expect((await service.admin('POST', `/api/conversations/${id}/resume`)).status).to.equal(200);
    await settle();
    expect(sentTo(contact), 'resume itself sends nothing').to.have.length(3);
    // The machine still waits for the answer to "Qual ambiente?": the paused messages were not taken as one.
    await say(contact, 'sala');
    expect((await replies(contact, 5)).slice(3)).to.deep.equal(['Anotado: sala.', 'Qual o prazo?']);
    expect(await activeConversationId(contact)).to.equal(id);
  });

  it('a paused conversation does not time out: the hold lasts until the agent resumes', async () => {
    const contact = newContact();
    await say(contact, 'oi');
    await replies(contact, 2);
    const id = await activeConversationId(contact);
    await service.admin('POST', `/api/conversations/${id}/pause`);
    await service.testDb.db('user_conversations').where({ id }).update({ last_activity_at: new Date(Date.now() - 10 * 86_400_000) });
    await say(contact, 'oi de novo');
    await inboxDrained(contact);
    await settle();
    expect(sentTo(contact)).to.have.length(2);
    expect(await service.testDb.db('user_conversations').where({ contact_id: contact.contactId }).pluck('id')).to.deep.equal([id]);
  });

  it('reset sends nothing now; the next message starts over on the default flow', async () => {
    const contact = newContact();
    await say(contact, 'oi');
    await replies(contact, 2);
    await say(contact, '1');
    await replies(contact, 3);
    const id = await activeConversationId(contact);

    const reset = await service.admin('POST', `/api/conversations/${id}/reset`);
    expect(reset.body).to.deep.equal({ status: 'reset' });
    await settle();
    expect(sentTo(contact)).to.have.length(3);
    expect((await service.admin('GET', `/api/conversations?contact_id=${contact.contactId}`)).body).to.deep.equal([]);

    // "cozinha" would have answered "Qual ambiente?"; after the reset it wakes a new conversation.
    await say(contact, 'cozinha');
    expect((await replies(contact, 5)).slice(3)).to.deep.equal(['Olá, Maria!', MENU]);
    const all = await service.admin('GET', `/api/conversations?status=all&contact_id=${contact.contactId}`);
    expect(all.body.map((row: any) => [row.id === id, row.is_active, row.closed_reason])).to.deep.equal([
      [false, true, null],
      [true, false, 'reset'],
    ]);
  });
});
