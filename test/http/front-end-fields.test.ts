// SPEC §5: the admin front end (written for the earlier service) reads these field names on every
// list and history route. A conversation is driven through the real webhook and worker so the
// history rows are the ones the service really writes.
import { expect } from 'chai';
import { buildFlowThroughApi, type BuiltFlow } from '../support/admin-flow-builder.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { fileMessage, textMessage } from '../support/webhook-payloads.js';

const fields = {
  templates: ['id', 'name', 'description', 'created_by', 'is_active', 'created_at', 'updated_at', 'flows_count'],
  flows: ['id', 'template_id', 'name', 'description', 'is_default', 'is_active', 'order_index', 'created_at', 'updated_at', 'subflows_count'],
  subflows: [
    'id', 'flow_id', 'name', 'description', 'parent_subflow_id', 'trigger_keywords', 'order_index', 'is_active', 'created_at',
    'updated_at', 'messages_count',
  ],
  messages: [
    'id', 'subflow_id', 'message_text', 'message_type', 'order_index', 'wait_for_response', 'wait_for_file', 'expected_file_types',
    'delay_seconds', 'save_response_as', 'is_active', 'created_at', 'updated_at',
  ],
  conversations: [
    'id', 'contact_id', 'ticket_id', 'current_flow_id', 'current_subflow_id', 'current_message_id', 'variables', 'started_at',
    'last_interaction', 'is_completed', 'is_active', 'template_name', 'flow_name', 'subflow_name', 'current_message',
  ],
  history: [
    'id', 'conversation_id', 'contact_id', 'ticket_id', 'message_text', 'message_type', 'media_url', 'media_path', 'is_from_bot',
    'flow_message_id', 'created_at',
  ],
};

describe("admin API: the front end's field names (SPEC §5)", function () {
  this.timeout(60_000);
  let gosac: FakeGosac;
  let service: TestService;
  let flow: BuiltFlow;
  const contact = { contactId: 81_001, name: 'Lúcia', ticketId: 581_001 };

  before(async () => {
    gosac = await startFakeGosac();
    service = await startTestService({ GOSAC_BASE_URL: gosac.url, GOSAC_AUTHORIZATION_KEY: 'INTEGRATION test-key' });
    flow = await buildFlowThroughApi(service, [
      { name: 'Menu', keywords: ['menu'], messages: [{ text: 'Olá, {{contact_name}}!', waitForResponse: false }, { text: '1 projeto' }] },
      {
        name: 'Projeto',
        keywords: ['1'],
        parent: 'Menu',
        messages: [{ text: 'Envie o PDF.', waitForResponse: false, waitForFile: true, expectedFileTypes: ['pdf'] }, { text: 'Qual cor?' }],
      },
    ]);
    await service.webhook(textMessage(contact, 'oi'));
    await gosac.waitForMessages(`/messages/${contact.ticketId}`, 2);
    await service.webhook(textMessage(contact, '1'));
    await gosac.waitForMessages(`/messages/${contact.ticketId}`, 3);
    await service.webhook(fileMessage(contact, 'planta.pdf', 'minha planta'));
    await gosac.waitForMessages(`/messages/${contact.ticketId}`, 4);
  });
  after(async () => {
    await service?.stop();
    await gosac?.stop();
    await service?.testDb.drop();
  });

  async function list(path: string): Promise<any[]> {
    const answer = await service.admin('GET', path);
    expect(answer.status, `${path}: ${JSON.stringify(answer.body)}`).to.equal(200);
    expect(answer.body, path).to.be.an('array').with.length.greaterThan(0);
    return answer.body;
  }

  function expectFields(path: string, rows: any[], names: string[]): void {
    for (const row of rows) {
      for (const name of names) expect(row, `${path}: ${name}`).to.have.property(name);
    }
  }

  it('lists templates, flows, subflows and messages with the seed tables\' columns and the counts', async () => {
    expectFields('/api/flow-templates', await list('/api/flow-templates'), fields.templates);
    expectFields('flows', await list(`/api/templates/${flow.templateId}/flows`), fields.flows);
    const subflows = await list(`/api/flows/${flow.flowId}/subflows`);
    expectFields('subflows', subflows, fields.subflows);
    expect(subflows.map((row) => [row.name, row.parent_subflow_id, row.trigger_keywords])).to.deep.equal([
      ['Menu', null, ['menu']],
      ['Projeto', flow.subflowIds['Menu'], ['1']],
    ]);
    for (const subflowId of Object.values(flow.subflowIds)) {
      expectFields('messages', await list(`/api/subflows/${subflowId}/messages`), fields.messages);
    }
  });

  it('lists conversations with current_flow_id, last_interaction, started_at and the joined names', async () => {
    for (const path of ['/api/conversations', '/api/conversations?status=all', `/api/conversations?contact_id=${contact.contactId}`]) {
      const rows = await list(path);
      expectFields(path, rows, fields.conversations);
    }
    const [row] = await list(`/api/conversations?contact_id=${contact.contactId}`);
    expect(row).to.include({
      contact_id: contact.contactId,
      ticket_id: contact.ticketId,
      current_flow_id: flow.flowId,
      current_subflow_id: flow.subflowIds['Projeto'],
      current_message_id: flow.messageIds['Projeto']![1],
      template_name: 'Móveis',
      flow_name: 'Atendimento',
      subflow_name: 'Projeto',
      current_message: 'Qual cor?',
      is_active: true,
      is_completed: false,
    });
    expect(row.variables).to.be.an('object');
    expect(Number.isNaN(Date.parse(row.started_at))).to.equal(false);
    expect(row.last_interaction).to.equal(row.last_activity_at);
    const one = await service.admin('GET', `/api/conversations/${row.id}`);
    expectFields('/api/conversations/:id', [one.body], fields.conversations);
  });

  it('gives history entries message_text, message_type, is_from_bot, flow_message_id and the ids', async () => {
    const [conversation] = await list(`/api/conversations?contact_id=${contact.contactId}`);
    const rows = await list(`/api/conversations/${conversation.id}/history`);
    expectFields('history', rows, fields.history);
    expect(
      rows.map((row) => [row.is_from_bot, row.message_type, row.message_text, row.flow_message_id, row.media_path]),
    ).to.deep.equal([
      [false, 'text', 'oi', null, null],
      [true, 'text', 'Olá, Lúcia!', flow.messageIds['Menu']![0], null],
      [true, 'text', '1 projeto', flow.messageIds['Menu']![1], null],
      [false, 'text', '1', null, null],
      [true, 'text', 'Envie o PDF.', flow.messageIds['Projeto']![0], null],
      [false, 'application', 'minha planta', null, 'planta.pdf'],
      [true, 'text', 'Qual cor?', flow.messageIds['Projeto']![1], null],
    ]);
    for (const row of rows) {
      expect(row).to.include({ conversation_id: conversation.id, contact_id: contact.contactId, ticket_id: contact.ticketId });
      // The service's own names stay for older callers.
      expect(row.direction).to.equal(row.is_from_bot ? 'outbound' : 'inbound');
      expect(row.body).to.equal(row.message_text);
    }
    expect(rows[5].media_url).to.match(/planta\.pdf$/);
  });
});
