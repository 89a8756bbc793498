// Issue 3 acceptance: a flow edited, reordered and partly deactivated through the admin API
// compiles and runs, a conversation in progress keeps the version it started on, and the preview
// of the draft sends exactly what a real conversation receives.
import { expect } from 'chai';
import { buildFlowThroughApi, type BuiltFlow } from '../support/admin-flow-builder.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { fileMessage, textMessage } from '../support/webhook-payloads.js';

const MENU = 'Menu: 1 orçamento, 2 suporte';

describe('editing a live flow through the admin API', function () {
  this.timeout(60_000);
  let gosac: FakeGosac;
  let service: TestService;
  let flow: BuiltFlow;
  let nextContact = 91_000;

  before(async () => {
    gosac = await startFakeGosac();
    service = await startTestService({ GOSAC_BASE_URL: gosac.url, GOSAC_AUTHORIZATION_KEY: 'INTEGRATION test-key' });
    flow = await buildFlowThroughApi(service, [
      { name: 'Boas-vindas', messages: [{ text: 'Olá, {{contact_name}}!', waitForResponse: false }, { text: MENU }] },
      {
        name: 'Orçamento',
        keywords: ['1', 'orçamento'],
        messages: [
          { text: 'Qual ambiente?', saveResponseAs: 'ambiente' },
          { text: 'Medidas da {{ambiente}}?', saveResponseAs: 'medidas' },
          { text: 'Obrigado! {{ambiente}}: {{medidas}}', waitForResponse: false },
        ],
      },
      { name: 'Suporte', keywords: ['2'], messages: [{ text: 'Suporte: descreva o problema.', waitForResponse: false }] },
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
  type Contact = ReturnType<typeof newContact>;

  async function send(contact: Contact, payload: unknown): Promise<void> {
    const answer = await service.webhook(payload);
    expect(answer.body).to.deep.equal({ status: 'queued' });
  }

  async function say(contact: Contact, text: string, expectedTotal: number): Promise<string[]> {
    await send(contact, textMessage(contact, text));
    return received(contact, expectedTotal);
  }

  async function received(contact: Contact, count: number): Promise<string[]> {
    const requests = await gosac.waitForMessages(`/messages/${contact.ticketId}`, count);
    return requests.map((request) => request.body.body as string);
  }

  async function ok(method: string, path: string, body?: unknown): Promise<void> {
    const answer = await service.admin(method, path, body);
    expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).to.be.oneOf([200, 201]);
  }

  it('runs the edited flow for new conversations and leaves the one in progress alone', async () => {
    const early = newContact('Ana');
    await say(early, 'oi', 2);
    expect((await say(early, '1', 3))[2]).to.equal('Qual ambiente?');

    const [ambiente, medidas, obrigado] = flow.messageIds['Orçamento']!;
    const { 'Boas-vindas': welcome, Orçamento: quote, Suporte: support } = flow.subflowIds;
    // Edit texts, reorder, deactivate a message and a subflow, add a subflow, move the keywords.
    await ok('PATCH', `/api/flow-messages/${ambiente}`, { message_text: 'Qual cômodo?' });
    await ok('POST', `/api/subflows/${quote}/messages/reorder`, { ids: [medidas, ambiente, obrigado] });
    await ok('PUT', `/api/flow-messages/${medidas}`, { message_text: 'Medidas?', save_response_as: 'medidas' });
    await ok('DELETE', `/api/flow-messages/${obrigado}`);
    await ok('DELETE', `/api/subflows/${support}`);
    const created = await service.admin('POST', '/api/subflows', { flow_id: flow.flowId, name: 'Atendente', trigger_keywords: ['2', 'atendente'] });
    await ok('POST', '/api/flow-messages', { subflow_id: created.body.id, message_text: 'Um atendente já vem.', wait_for_response: false });
    await ok('POST', `/api/flows/${flow.flowId}/subflows/reorder`, { ids: [welcome, created.body.id, quote] });
    await ok('PATCH', `/api/flow-messages/${flow.messageIds['Boas-vindas']![1]}`, { message_text: 'Menu: 1 orçamento, 2 atendente' });

    const machine = await service.admin('GET', `/api/flows/${flow.flowId}/machine`);
    expect(machine.status).to.equal(200);
    const validation = await service.admin('GET', `/api/flows/${flow.flowId}/validate`);
    expect(validation.body).to.include({ compiles: true, valid: true });

    // The conversation in progress finishes on the version it started with.
    expect((await say(early, 'cozinha', 4))[3]).to.equal('Medidas da cozinha?');
    expect((await say(early, '3x2', 5))[4]).to.equal('Obrigado! cozinha: 3x2');

    // A new conversation runs the edited flow.
    const late = newContact('Bruno');
    expect(await say(late, 'oi', 2)).to.deep.equal(['Olá, Bruno!', 'Menu: 1 orçamento, 2 atendente']);
    expect((await say(late, '1', 3))[2]).to.equal('Medidas?');
    expect((await say(late, '4x3', 4))[3]).to.equal('Qual cômodo?');
    // The last message now waits as the end of its subflow: only a keyword moves on.
    expect((await say(late, 'sala', 5))[4]).to.equal('Qual cômodo?');
    expect((await say(late, '2', 6))[5]).to.equal('Um atendente já vem.');

    const conversations = await service.testDb.db('user_conversations').whereIn('contact_id', [early.contactId, late.contactId]).orderBy('id');
    expect(conversations).to.have.length(2);
    expect(conversations[0].flow_version_id).not.to.equal(conversations[1].flow_version_id);
  });

  it('previews exactly the texts a real conversation receives for the same inputs', async () => {
    const contact = newContact('Carla');
    const inputs: Array<{ text?: string; file?: { name: string } }> = [
      { text: 'Bom dia' },
      { text: 'talvez' },
      { text: 'quero um orçamento' },
      { text: 'varanda' },
      { file: { name: 'planta.jpg' } },
      { text: '2' },
    ];
    const preview = await service.admin('POST', `/api/flows/${flow.flowId}/preview`, { inputs, contact_name: 'Carla', contact_number: '' });
    expect(preview.status, JSON.stringify(preview.body)).to.equal(200);
    const expected: string[][] = preview.body.steps.map((step: any) => step.replies.map((reply: any) => reply.text));
    expect(expected.every((texts) => texts.length > 0)).to.equal(true);

    let total = 0;
    for (const [index, input] of inputs.entries()) {
      await send(contact, input.file ? fileMessage(contact, input.file.name, '') : textMessage(contact, input.text ?? ''));
      total += expected[index]!.length;
      await received(contact, total);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const actual = gosac.requestsTo(`/messages/${contact.ticketId}`).map((request) => request.body.body as string);
    expect(actual).to.deep.equal(expected.flat());
    expect(expected.flat()).to.include('Menu: 1 orçamento, 2 atendente');
  });
});
