// SPEC §2 end to end: a flow built through the admin API, driven through the real webhook, the
// real worker and a real database, answered at a fake GOSAC server.
import { expect } from 'chai';
import { buildFlowThroughApi, type BuiltFlow } from '../support/admin-flow-builder.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { fileMessage, textMessage } from '../support/webhook-payloads.js';
import { eventually } from '../support/eventually.js';

const MENU = 'Como podemos ajudar?\n1 - Orçamento\n2 - Assistência\n3 - Atendente';

describe('conversations end to end (SPEC §2)', function () {
  this.timeout(60_000);
  let gosac: FakeGosac;
  let service: TestService;
  let flow: BuiltFlow;
  let nextContact = 70_000;

  before(async () => {
    gosac = await startFakeGosac();
    service = await startTestService({
      GOSAC_BASE_URL: gosac.url,
      GOSAC_AUTHORIZATION_KEY: 'INTEGRATION test-key',
    });
    flow = await buildFlowThroughApi(service, [
      {
        name: 'Boas-vindas',
        keywords: ['menu'],
        messages: [
          { text: 'Olá, {{contact_name}}! Bem-vindo(a).', waitForResponse: false },
          { text: MENU },
        ],
      },
      {
        name: 'Orçamento',
        keywords: ['1', 'orçamento'],
        messages: [
          { text: 'Qual ambiente?', saveResponseAs: 'ambiente' },
          { text: 'Envie o projeto da {{ambiente}} em PDF ou DWG.', waitForResponse: false, waitForFile: true, expectedFileTypes: ['pdf', 'dwg'] },
          { text: 'Projeto recebido, {{contact_name}}!', waitForResponse: false },
          { text: 'Em breve retornamos.', waitForResponse: false, delaySeconds: 1 },
        ],
      },
      {
        name: 'Assistência',
        keywords: ['2', 'assistencia', 'assistência técnica urgente'],
        parent: 'Boas-vindas',
        messages: [
          { text: 'Número do pedido?', saveResponseAs: 'pedido' },
          { text: 'Pedido {{pedido}} registrado.', waitForResponse: false },
        ],
      },
      {
        name: 'Urgente',
        keywords: ['urgente', 'tecnica urgente'],
        messages: [{ text: 'Atendimento urgente: um técnico vai ligar.', waitForResponse: false }],
      },
      {
        name: 'Atendente',
        keywords: ['3', 'atendente'],
        messages: [{ text: 'Um atendente vai falar com você.', waitForResponse: false }],
      },
    ]);
  });

  after(async () => {
    await service?.stop();
    await gosac?.stop();
    await service?.testDb.drop();
  });

  function newContact(name = 'Maria Souza') {
    nextContact += 1;
    return { contactId: nextContact, name, ticketId: nextContact + 500_000 };
  }

  async function say(contact: ReturnType<typeof newContact>, text: string) {
    const response = await service.webhook(textMessage(contact, text));
    expect(response.status).to.equal(200);
    expect(response.body).to.deep.equal({ status: 'queued' });
  }

  /**
   * Waits until the contact has received `count` replies in all, lets a stray extra one arrive, and
   * returns their texts: exactly `count`, never "at least".
   */
  async function replies(contact: ReturnType<typeof newContact>, count: number): Promise<string[]> {
    await gosac.waitForMessages(`/messages/${contact.ticketId}`, count);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const texts = gosac.requestsTo(`/messages/${contact.ticketId}`);
    expect(texts, 'no reply beyond the expected ones').to.have.length(count);
    return texts.map((request) => request.body.body as string);
  }

  it('greets a new contact by name with the first subflow, chain first', async () => {
    const contact = newContact('Joana');
    await say(contact, 'Oi, boa tarde!');
    expect(await replies(contact, 2)).to.deep.equal(['Olá, Joana! Bem-vindo(a).', MENU]);
  });

  it('answers a repeated message id with duplicate and sends nothing for it', async () => {
    const contact = newContact();
    const payload = textMessage(contact, 'oi');
    expect((await service.webhook(payload)).body).to.deep.equal({ status: 'queued' });
    await replies(contact, 2);
    expect((await service.webhook(payload)).body).to.deep.equal({ status: 'duplicate' });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(gosac.requestsTo(`/messages/${contact.ticketId}`)).to.have.length(2);
    const inbound = await service.testDb.db('message_history').where({ contact_id: contact.contactId, direction: 'inbound' });
    expect(inbound).to.have.length(1);
  });

  it('matches keywords without accents or case, on whole words only', async () => {
    const contact = newContact();
    await say(contact, 'oi');
    await replies(contact, 2);
    await say(contact, 'Quero um ORCAMENTO por favor');
    expect((await replies(contact, 3))[2]).to.equal('Qual ambiente?');

    const other = newContact();
    await say(other, 'oi');
    await replies(other, 2);
    await say(other, '10');
    // "10" is not the keyword "1": the menu asks again instead of opening the quote.
    expect((await replies(other, 3))[2]).to.equal(MENU);
  });

  it('lets the longest matching keyword win', async () => {
    const contact = newContact();
    await say(contact, 'oi');
    await replies(contact, 2);
    // "urgente" (Urgente), "tecnica urgente" (Urgente) and "assistência técnica urgente"
    // (Assistência) all match: the longest one decides.
    await say(contact, 'preciso de assistencia tecnica urgente');
    expect((await replies(contact, 3))[2]).to.equal('Número do pedido?');
  });

  it('re-prompts a menu on input that matches no keyword, and stays', async () => {
    const contact = newContact();
    await say(contact, 'oi');
    await replies(contact, 2);
    await say(contact, 'não sei');
    expect((await replies(contact, 3))[2]).to.equal(MENU);
    await say(contact, '3');
    expect((await replies(contact, 4))[3]).to.equal('Um atendente vai falar com você.');
  });

  it('accepts only the expected file types and records the file', async () => {
    const contact = newContact('Ana');
    await say(contact, 'oi');
    await replies(contact, 2);
    await say(contact, '1');
    await replies(contact, 3);
    await say(contact, 'cozinha');
    expect((await replies(contact, 4))[3]).to.equal('Envie o projeto da cozinha em PDF ou DWG.');

    expect((await service.webhook(fileMessage(contact, 'planta.zip'))).body).to.deep.equal({ status: 'queued' });
    const afterWrongFile = await replies(contact, 5);
    expect(afterWrongFile[4]).to.match(/planta\.zip/);
    expect(afterWrongFile[4]).to.match(/PDF/);

    const before = Date.now();
    await service.webhook(fileMessage(contact, 'projeto-cozinha.PDF', 'segue o projeto'));
    const all = await replies(contact, 7);
    expect(all.slice(5)).to.deep.equal(['Projeto recebido, Ana!', 'Em breve retornamos.']);
    // The last message waits its own delay_seconds after the one before it.
    const sent = gosac.requestsTo(`/messages/${contact.ticketId}`);
    expect(sent[6]!.receivedAt - sent[5]!.receivedAt).to.be.at.least(900);
    expect(sent[6]!.receivedAt - before).to.be.at.least(900);

    const files = await service.testDb.db('received_files').where({ contact_id: contact.contactId });
    expect(files).to.have.length(1);
    expect(files[0]).to.include({ file_name: 'projeto-cozinha.PDF', file_type: 'pdf' });
  });

  it('returns to the parent subflow after a chain, saving the reply in a variable', async () => {
    const contact = newContact();
    await say(contact, 'oi');
    await replies(contact, 2);
    await say(contact, 'assistência');
    await replies(contact, 3);
    await say(contact, 'PED-4521');
    const texts = await replies(contact, 6);
    expect(texts.slice(3)).to.deep.equal(['Pedido PED-4521 registrado.', 'Olá, Maria Souza! Bem-vindo(a).', MENU]);
  });

  it('completes a conversation and starts a new one on the next message', async () => {
    const contact = newContact();
    await say(contact, 'oi');
    await replies(contact, 2);
    await say(contact, 'atendente');
    await replies(contact, 3);
    await eventually(async () => {
      const rows = await service.testDb.db('user_conversations').where({ contact_id: contact.contactId });
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include({ is_completed: true, is_active: false });
    });
    await say(contact, 'oi de novo');
    expect((await replies(contact, 5)).slice(3)).to.deep.equal(['Olá, Maria Souza! Bem-vindo(a).', MENU]);
    const rows = await service.testDb.db('user_conversations').where({ contact_id: contact.contactId }).orderBy('id');
    expect(rows.map((row) => row.is_active)).to.deep.equal([false, true]);
  });

  it('keeps a conversation on the flow version it started with', async () => {
    const contact = newContact();
    await say(contact, 'oi');
    await replies(contact, 2);
    await say(contact, '2');
    await replies(contact, 3);

    const registeredId = flow.messageIds['Assistência']![1]!;
    const edit = await service.admin('PUT', `/api/flow-messages/${registeredId}`, {
      message_text: 'Chamado do pedido {{pedido}} aberto (versão nova).',
      wait_for_response: false,
    });
    expect(edit.status).to.equal(200);

    await say(contact, 'PED-1');
    // The order is registered, then the chain goes back to the parent menu (greeting and menu).
    const first = await replies(contact, 6);
    expect(first[3]).to.equal('Pedido PED-1 registrado.');
    expect(first[5]).to.equal(MENU);

    const newcomer = newContact();
    await say(newcomer, 'oi');
    await replies(newcomer, 2);
    await say(newcomer, '2');
    await replies(newcomer, 3);
    await say(newcomer, 'PED-2');
    const second = await replies(newcomer, 6);
    expect(second[3]).to.equal('Chamado do pedido PED-2 aberto (versão nova).');
    expect(second[5]).to.equal(MENU);

    const versions = await service.testDb.db('user_conversations')
      .whereIn('contact_id', [contact.contactId, newcomer.contactId])
      .orderBy('contact_id')
      .pluck('flow_version_id');
    expect(versions[0]).to.not.equal(versions[1]);
  });

  it('keeps every message of the conversation in its history, in and out', async () => {
    const contact = newContact();
    await say(contact, 'oi');
    await replies(contact, 2);
    const [conversation] = await service.testDb.db('user_conversations').where({ contact_id: contact.contactId });
    const history = await service.admin('GET', `/api/conversations/${conversation.id}/history`);
    expect(history.status).to.equal(200);
    await eventually(async () => {
      const again = await service.admin('GET', `/api/conversations/${conversation.id}/history`);
      expect(again.body.map((row: any) => [row.direction, row.body, row.status])).to.deep.equal([
        ['inbound', 'oi', 'processed'],
        ['outbound', 'Olá, Maria Souza! Bem-vindo(a).', 'sent'],
        ['outbound', MENU, 'sent'],
      ]);
    });
  });
});

describe('debounce (SPEC §3)', function () {
  this.timeout(60_000);
  let gosac: FakeGosac;
  let service: TestService;

  before(async () => {
    gosac = await startFakeGosac();
    service = await startTestService({
      GOSAC_BASE_URL: gosac.url,
      GOSAC_AUTHORIZATION_KEY: 'INTEGRATION test-key',
      DEBOUNCE_TIME: '700',
    });
    await buildFlowThroughApi(service, [
      {
        name: 'Início',
        messages: [{ text: 'Qual seu nome?', saveResponseAs: 'nome' }, { text: 'Obrigado, {{nome}}.', waitForResponse: false }],
      },
    ]);
  });

  after(async () => {
    await service?.stop();
    await gosac?.stop();
    await service?.testDb.drop();
  });

  it('answers a burst once, with the texts joined, and keeps every message', async () => {
    const contact = { contactId: 81_001, ticketId: 81_001 };
    await service.webhook(textMessage(contact, 'oi'));
    await gosac.waitForMessages(`/messages/${contact.ticketId}`, 1);

    for (const part of ['Maria', 'da', 'Silva']) {
      expect((await service.webhook(textMessage(contact, part))).body).to.deep.equal({ status: 'queued' });
    }
    const sent = await gosac.waitForMessages(`/messages/${contact.ticketId}`, 2);
    expect(sent[1]!.body.body).to.equal('Obrigado, Maria\nda\nSilva.');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(gosac.requestsTo(`/messages/${contact.ticketId}`)).to.have.length(2);

    const inbound = await service.testDb.db('message_history')
      .where({ contact_id: contact.contactId, direction: 'inbound' })
      .orderBy('id')
      .pluck('body');
    expect(inbound).to.deep.equal(['oi', 'Maria', 'da', 'Silva']);
  });
});

