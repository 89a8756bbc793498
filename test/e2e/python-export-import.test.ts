// SPEC §5: an export written by the earlier Python service (ids, timestamps, inactive rows,
// unknown keys, a child subflow whose parent_subflow_id is an id in the file) is imported over
// HTTP, made the default flow through the admin API, and conversed on through the real webhook,
// worker and a fake GOSAC. Every reply is asserted exactly: no missing and no extra message.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { fileMessage, textMessage } from '../support/webhook-payloads.js';

const pythonExport = () =>
  JSON.parse(readFileSync(new URL('../fixtures/exports/python-service-export.json', import.meta.url), 'utf8')) as any;

const MENU = 'Digite:\n1 - Orçamento\n2 - Acompanhar pedido';
const GREETING = (name: string) => `Olá, ${name}! Aqui é a Marcenaria Silva.`;
// Long enough for a reply the worker would wrongly send (a chain or a delayed message) to arrive.
const QUIET_MS = 1_500;

describe('importing an export of the earlier Python service and conversing on it (SPEC §5)', function () {
  this.timeout(90_000);
  let gosac: FakeGosac;
  let service: TestService;
  let templateId: number;
  let flowId: number;

  before(async () => {
    gosac = await startFakeGosac();
    service = await startTestService({ GOSAC_BASE_URL: gosac.url, GOSAC_AUTHORIZATION_KEY: 'INTEGRATION test-key' });
  });
  after(async () => {
    await service?.stop();
    await gosac?.stop();
    await service?.testDb.drop();
  });

  it('imports the file: active rows only, parents by their ids in the file, never as default', async () => {
    const answer = await service.admin('POST', '/api/import/flows', pythonExport());
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    expect(answer.body).to.deep.equal({ template_id: answer.body.template_id, status: 'imported' });
    templateId = answer.body.template_id;

    const templates = (await service.admin('GET', '/api/flow-templates')).body;
    expect(templates.find((row: any) => row.id === templateId)).to.include({
      name: 'Imported - Marcenaria Silva',
      description: 'Atendimento do WhatsApp comercial',
      created_by: 'joao',
      flows_count: 1,
    });
    const flows = (await service.admin('GET', `/api/templates/${templateId}/flows`)).body;
    expect(flows.map((row: any) => [row.name, row.is_default, row.subflows_count])).to.deep.equal([['Atendimento WhatsApp', false, 3]]);
    flowId = flows[0].id;
    expect(flowId).not.to.equal(12);

    const subflows = (await service.admin('GET', `/api/flows/${flowId}/subflows`)).body;
    expect(subflows.map((row: any) => [row.name, row.trigger_keywords, row.messages_count])).to.deep.equal([
      ['Boas-vindas', ['menu', 'início'], 2],
      ['Orçamento', ['1', 'orçamento'], 3],
      ['Acompanhar pedido', ['2', 'pedido', 'acompanhar pedido'], 2],
    ]);
    const byName = Object.fromEntries(subflows.map((row: any) => [row.name, row]));
    expect(byName['Acompanhar pedido'].parent_subflow_id).to.equal(byName['Boas-vindas'].id);
    expect(byName['Boas-vindas'].parent_subflow_id).to.equal(null);

    const quote = (await service.admin('GET', `/api/subflows/${byName['Orçamento'].id}/messages`)).body;
    expect(quote.map((row: any) => [row.message_text, row.wait_for_file, row.expected_file_types, row.delay_seconds, row.save_response_as]))
      .to.deep.equal([
        ['Qual ambiente você quer mobiliar?', false, [], 0, 'ambiente'],
        ['Envie a planta do ambiente ({{ambiente}}) em PDF ou DWG.', true, ['pdf', 'dwg'], 0, null],
        ['Planta recebida, {{contact_name}}! Retornamos em até 2 dias úteis.', false, [], 1, null],
      ]);
    const texts = await service.testDb.db('flow_messages').pluck('message_text');
    expect(texts.join('\n')).not.to.match(/desativada|encerrada/);
  });

  it('exports the imported template in the same shape, and that export imports again', async () => {
    const exported = await service.admin('GET', `/api/export/flows/${templateId}`);
    expect(exported.status).to.equal(200);
    expect(exported.body.template).to.include({ id: templateId, name: 'Imported - Marcenaria Silva' });
    const subflows = exported.body.flows[0].subflows;
    const child = subflows.find((row: any) => row.name === 'Acompanhar pedido');
    expect(child.parent_subflow_id).to.equal(subflows.find((row: any) => row.name === 'Boas-vindas').id);
    const again = await service.admin('POST', '/api/import/flows', exported.body);
    expect(again.status, JSON.stringify(again.body)).to.equal(201);
    const flows = (await service.admin('GET', `/api/templates/${again.body.template_id}/flows`)).body;
    const copied = (await service.admin('GET', `/api/flows/${flows[0].id}/subflows`)).body;
    expect(copied.map((row: any) => row.name)).to.deep.equal(['Boas-vindas', 'Orçamento', 'Acompanhar pedido']);
    expect(copied[2].parent_subflow_id).to.equal(copied[0].id);
  });

  describe('conversing on the imported flow once it is the default', () => {
    before(async () => {
      const answer = await service.admin('PUT', `/api/flows/${flowId}`, { is_default: true });
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
      const defaults = await service.testDb.db('flows').where({ is_default: true, is_active: true }).pluck('id');
      expect(defaults).to.deep.equal([flowId]);
    });

    let nextContact = 91_000;
    function newContact(name: string) {
      nextContact += 1;
      return { contactId: nextContact, name, ticketId: nextContact + 500_000 };
    }
    type Contact = ReturnType<typeof newContact>;
    const sent = (contact: Contact) => gosac.requestsTo(`/messages/${contact.ticketId}`).map((request) => request.body.body as string);

    /** Sends `text` (or a file) and expects exactly `expected` as the next replies, then quiet. */
    async function exchange(contact: Contact, input: string | { file: string }, expected: string[]): Promise<void> {
      const before = sent(contact).length;
      const payload = typeof input === 'string' ? textMessage(contact, input) : fileMessage(contact, input.file);
      const answer = await service.webhook(payload);
      expect(answer.body).to.deep.equal({ status: 'queued' });
      await gosac.waitForMessages(`/messages/${contact.ticketId}`, before + expected.length);
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
      expect(sent(contact).slice(before), `replies to ${JSON.stringify(input)}`).to.deep.equal(expected);
    }

    it('greets, follows the child subflow back to its parent menu, collects the project file and completes', async () => {
      const contact = newContact('Rita');
      await exchange(contact, 'Boa tarde!', [GREETING('Rita'), MENU]);
      await exchange(contact, 'quero acompanhar pedido', ['Informe o número do pedido.']);
      await exchange(contact, 'PED-4411', ['Pedido PED-4411 em produção. Previsão de entrega em 10 dias.', GREETING('Rita'), MENU]);
      await exchange(contact, '1', ['Qual ambiente você quer mobiliar?']);
      await exchange(contact, 'cozinha', ['Envie a planta do ambiente (cozinha) em PDF ou DWG.']);
      await exchange(contact, { file: 'planta-cozinha.pdf' }, ['Planta recebida, Rita! Retornamos em até 2 dias úteis.']);

      const conversation = (await service.admin('GET', `/api/conversations?status=all&contact_id=${contact.contactId}`)).body[0];
      expect(conversation).to.include({ current_flow_id: flowId, is_completed: true, is_active: false });
      expect(conversation.variables).to.deep.equal({ pedido: 'PED-4411', ambiente: 'cozinha' });
    });

    it('ignores the keywords of a subflow that was inactive in the file', async () => {
      const contact = newContact('Caio');
      await exchange(contact, 'oi', [GREETING('Caio'), MENU]);
      // "3" opened the September promotion in the old service; it was deactivated there.
      await exchange(contact, '3', [MENU]);
    });
  });
});
