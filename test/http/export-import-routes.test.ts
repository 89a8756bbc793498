// GET /api/export/flows/:templateId and POST /api/import/flows: the SPEC §5 file shape, a round
// trip reproduces the same machine, and a broken document writes nothing. The earlier Python
// service's file is imported and conversed on in test/e2e/python-export-import.test.ts.
import { expect } from 'chai';
import { compileFlow, type FlowDefinition } from '../../machines/index.js';
import { loadFlowDefinition } from '../../src/flows/flow-definition-loader.js';
import { buildFlowThroughApi, type BuiltFlow } from '../support/admin-flow-builder.js';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

/** The compiled config with every database id replaced by its position in the definition. */
function configUpToIds(definition: FlowDefinition): unknown {
  const config = compileFlow(definition).config;
  const positions: Record<string, Map<number, number>> = {
    flow: new Map([[definition.flowId, 0]]),
    sf: new Map(definition.subflows.map((subflow, index) => [subflow.id, index])),
    msg: new Map(definition.subflows.flatMap((subflow) => subflow.messages).map((message, index) => [message.id, index])),
  };
  const position = (kind: string, id: number) => {
    const found = positions[kind]?.get(id);
    if (found === undefined) throw new Error(`${kind} ${id} is not in the definition`);
    return found;
  };
  const text = (value: string) => value.replace(/\b(flow|sf|msg)_(\d+)\b/g, (_, kind: string, id: string) => `${kind}_p${position(kind, Number(id))}`);
  const walk = (value: unknown, key?: string): unknown => {
    if (typeof value === 'string') return text(value);
    if (typeof value === 'number' && key === 'subflowId') return `sf_p${position('sf', value)}`;
    if (typeof value === 'number' && key === 'messageId') return `msg_p${position('msg', value)}`;
    if (Array.isArray(value)) return value.map((item) => walk(item));
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [text(name), walk(item, name)]));
  };
  return walk(config);
}

describe('admin API: export and import', () => {
  let app: HttpTestApp;
  let built: BuiltFlow;
  let secondFlowId: number;

  before(async () => {
    app = await startHttpTestApp();
    built = await buildFlowThroughApi({ admin: (method, path, body) => app.api(method, path, body) }, [
      {
        name: 'Boas-vindas',
        keywords: ['menu', 'início'],
        messages: [
          { text: 'Olá, {{contact_name}}!', waitForResponse: false },
          { text: 'Menu: 1 orçamento, 2 assistência' },
        ],
      },
      {
        name: 'Orçamento',
        keywords: ['1', 'orçamento'],
        messages: [
          { text: 'Qual ambiente?', saveResponseAs: 'ambiente' },
          { text: 'Envie o projeto da {{ambiente}}.', waitForResponse: false, waitForFile: true, expectedFileTypes: ['pdf', 'dwg'] },
          { text: 'Recebido!', waitForResponse: false, delaySeconds: 2 },
        ],
      },
      {
        name: 'Assistência',
        keywords: ['2'],
        parent: 'Boas-vindas',
        messages: [{ text: 'Número do pedido?', saveResponseAs: 'pedido' }, { text: 'Pedido {{pedido}} anotado.', waitForResponse: false }],
      },
      { name: 'Removido', keywords: ['3'], messages: [{ text: 'não exportar' }] },
    ], { name: 'Móveis' });
    const api = async (method: string, path: string, body?: unknown) => {
      const answer = await app.api(method, path, body);
      expect(answer.status, `${method} ${path}: ${answer.text}`).to.be.oneOf([200, 201]);
      return answer.body;
    };
    // Deactivated rows stay behind; a parent listed after its child must still be found.
    await api('DELETE', `/api/subflows/${built.subflowIds['Removido']}`);
    const extra = await api('POST', '/api/flow-messages', { subflow_id: built.subflowIds['Orçamento'], message_text: 'apagada', order_index: 9 });
    await api('DELETE', `/api/flow-messages/${extra.id}`);
    await api('PUT', `/api/subflows/${built.subflowIds['Assistência']}`, { order_index: -1 });
    await api('PUT', `/api/subflows/${built.subflowIds['Boas-vindas']}`, { order_index: 5 });
    secondFlowId = (await api('POST', '/api/flows', { template_id: built.templateId, name: 'Pós-venda', order_index: 1 })).id;
    const subflow = await api('POST', '/api/subflows', { flow_id: secondFlowId, name: 'Pesquisa' });
    await api('POST', '/api/flow-messages', { subflow_id: subflow.id, message_text: 'Nota de 0 a 10?', save_response_as: 'nota' });
  });
  after(() => app.close());

  const counts = async () => {
    const result: Record<string, number> = {};
    for (const table of ['flow_templates', 'flows', 'subflows', 'flow_messages', 'activity_logs']) {
      result[table] = Number((await app.deps.db(table).count<Array<{ n: string }>>({ n: '*' }))[0]!.n);
    }
    return result;
  };

  async function exported(): Promise<any> {
    const answer = await app.api('GET', `/api/export/flows/${built.templateId}`);
    expect(answer.status).to.equal(200);
    return answer.body;
  }

  it('exports the SPEC §5 file: {template, flows → subflows → messages}, active rows as stored, parents by id', async () => {
    const document = await exported();
    expect(document).to.include({ format_version: 2 });
    expect(document.template).to.include({ id: built.templateId, name: 'Móveis', created_by: 'test', is_active: true });
    expect(Object.keys(document.template).sort()).to.deep.equal(['created_at', 'created_by', 'description', 'id', 'is_active', 'name', 'updated_at']);
    expect(document.flows.map((flow: any) => [flow.id, flow.template_id, flow.name, flow.is_default])).to.deep.equal([
      [built.flowId, built.templateId, 'Móveis', true],
      [secondFlowId, built.templateId, 'Pós-venda', false],
    ]);
    const subflows = document.flows[0].subflows;
    expect(subflows.map((subflow: any) => subflow.name)).to.deep.equal(['Assistência', 'Orçamento', 'Boas-vindas']);
    expect(subflows.map((subflow: any) => subflow.parent_subflow_id)).to.deep.equal([built.subflowIds['Boas-vindas'], null, null]);
    expect(subflows.map((subflow: any) => subflow.flow_id)).to.deep.equal([built.flowId, built.flowId, built.flowId]);
    expect(subflows[1]).to.include({ id: built.subflowIds['Orçamento'], is_active: true, order_index: 1 });
    expect(subflows[1].trigger_keywords).to.deep.equal(['1', 'orçamento']);
    expect(subflows[1].messages.map((message: any) => message.message_text)).to.deep.equal([
      'Qual ambiente?',
      'Envie o projeto da {{ambiente}}.',
      'Recebido!',
    ]);
    const { created_at: created, updated_at: updated, ...message } = subflows[1].messages[1];
    expect([created, updated].map((time: string) => Number.isNaN(Date.parse(time)))).to.deep.equal([false, false]);
    expect(message).to.deep.equal({
      id: built.messageIds['Orçamento']![1],
      subflow_id: built.subflowIds['Orçamento'],
      message_text: 'Envie o projeto da {{ambiente}}.',
      message_type: 'text',
      order_index: 1,
      wait_for_response: false,
      wait_for_file: true,
      expected_file_types: ['pdf', 'dwg'],
      delay_seconds: 0,
      save_response_as: null,
      actions: [],
      // SPEC §10 columns, unset here
      reminder_after_minutes: null,
      reminder_text: null,
      max_reprompts: null,
      fallback_subflow_id: null,
      is_active: true,
    });
    expect(JSON.stringify(document)).not.to.match(/não exportar|apagada|"is_active":false/);
  });

  it('imports an export as "Imported - <name>" that compiles to the same machine, never as default', async () => {
    const before = await counts();
    const answer = await app.api('POST', '/api/import/flows', await exported());
    expect(answer.status).to.equal(201);
    expect(answer.body).to.deep.equal({ template_id: answer.body.template_id, status: 'imported' });
    const templateId = answer.body.template_id as number;

    const template = await app.deps.db('flow_templates').where({ id: templateId }).first();
    expect(template).to.include({ name: 'Imported - Móveis', is_active: true });
    const flows = await app.deps.db('flows').where({ template_id: templateId }).orderBy([{ column: 'order_index' }, { column: 'id' }]);
    expect(flows.map((flow) => [flow.name, flow.is_default])).to.deep.equal([['Móveis', false], ['Pós-venda', false]]);
    expect((await app.deps.db('flows').where({ is_default: true, is_active: true }).pluck('id'))).to.deep.equal([built.flowId]);
    const after = await counts();
    expect(after).to.deep.equal({
      flow_templates: before.flow_templates! + 1,
      flows: before.flows! + 2,
      subflows: before.subflows! + 4,
      flow_messages: before.flow_messages! + 8,
      activity_logs: before.activity_logs! + 1,
    });
    const log = await app.deps.db('activity_logs').orderBy('id', 'desc').first();
    expect(log).to.include({ actor: 'admin', action: 'flow_template.imported' });
    expect(log.after).to.include({ template_id: templateId, flows: 2, subflows: 4, messages: 8 });

    for (const [original, copy] of [[built.flowId, flows[0]!.id], [secondFlowId, flows[1]!.id]] as const) {
      const originalDefinition = await loadFlowDefinition(app.deps.db, original);
      const importedDefinition = await loadFlowDefinition(app.deps.db, copy);
      expect(importedDefinition!.subflows.map((subflow) => subflow.id)).not.to.deep.equal(
        originalDefinition!.subflows.map((subflow) => subflow.id),
      );
      expect(configUpToIds(importedDefinition!)).to.deep.equal(configUpToIds(originalDefinition!));
    }
    // And the copy exports to the same document.
    const again = await app.api('GET', `/api/export/flows/${templateId}`);
    // Up to ids, timestamps, the name and the default flag, the copy exports to the same file.
    const strip = (document: any): unknown =>
      JSON.parse(JSON.stringify(document), (key, value) =>
        /(^id|_id|_at)$/.test(key) || key === 'is_default' || (key === 'name' && typeof value === 'string' && value.endsWith('Móveis')) ? undefined : value,
      );
    expect(strip(again.body)).to.deep.equal(strip(await exported()));
    expect(again.body.flows[0].subflows[0].parent_subflow_id).to.equal(again.body.flows[0].subflows[2].id);
  });

  it('validates the whole document first: 400 naming every bad field by path, nothing written', async () => {
    const document = await exported();
    document.flows[0].subflows[2].messages[1].message_text = '   ';
    document.flows[0].subflows[1].trigger_keywords = ['ok', '  '];
    document.flows[1].subflows[0].messages[0].delay_seconds = -1;
    document.flows[0].subflows[1].parent_subflow_id = 999_999;
    const before = await counts();
    const answer = await app.api('POST', '/api/import/flows', document);
    expect(answer.status).to.equal(400);
    const fields = answer.body.errors.map((error: string) => error.split(': ')[0]);
    expect(fields).to.include.members([
      'flows.0.subflows.2.messages.1.message_text',
      'flows.0.subflows.1.trigger_keywords.1',
      'flows.1.subflows.0.messages.0.delay_seconds',
      'flows.0.subflows.1.parent_subflow_id',
    ]);
    expect(await counts()).to.deep.equal(before);
  });

  it('refuses parents that do not exist in the flow or loop, naming the field', async () => {
    const document = await exported();
    const [assistance, quote, welcome] = document.flows[0].subflows;
    quote.parent_subflow_id = 7_777;
    let answer = await app.api('POST', '/api/import/flows', document);
    expect(answer.status).to.equal(400);
    expect(answer.body.errors).to.deep.equal(['flows.0.subflows.1.parent_subflow_id: no subflow with id 7777 in this flow']);

    // A subflow of another flow in the same file is not a parent either.
    quote.parent_subflow_id = document.flows[1].subflows[0].id;
    answer = await app.api('POST', '/api/import/flows', document);
    expect(answer.body.errors).to.deep.equal([`flows.0.subflows.1.parent_subflow_id: no subflow with id ${quote.parent_subflow_id} in this flow`]);

    quote.parent_subflow_id = assistance.id;
    welcome.parent_subflow_id = quote.id;
    answer = await app.api('POST', '/api/import/flows', document);
    expect(answer.status).to.equal(400);
    expect(answer.body.errors[0]).to.match(/^flows\.0\.subflows\.\d\.parent_subflow_id: a subflow cannot be its own parent/);
  });

  it('still imports the earlier portable document ({name, flows}, parents by position, no ids)', async () => {
    const answer = await app.api('POST', '/api/import/flows', {
      format: 'gosac-flow-bot/flow-template',
      format_version: 1,
      name: 'Portátil',
      flows: [
        {
          name: 'Fluxo',
          is_default: true,
          subflows: [
            { name: 'Filho', trigger_keywords: ['2'], parent_subflow_index: 1, messages: [{ message_text: 'Filho', wait_for_response: false }] },
            { name: 'Menu', messages: [{ message_text: 'Menu' }] },
          ],
        },
      ],
    });
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    const file = (await app.api('GET', `/api/export/flows/${answer.body.template_id}`)).body;
    expect(file.template.name).to.equal('Imported - Portátil');
    const [child, menu] = file.flows[0].subflows;
    expect([child.name, menu.name, child.parent_subflow_id, file.flows[0].is_default]).to.deep.equal(['Filho', 'Menu', menu.id, false]);
    const refused = await app.api('POST', '/api/import/flows', { name: 'x', flows: [{ name: 'f', subflows: [{ name: 's', parent_subflow_index: 7, messages: [] }] }] });
    expect(refused.body.errors).to.deep.equal(['flows.0.subflows.0.parent_subflow_index: no subflow at position 7 in this flow']);
  });

  it('answers 400 for a body that is not an export', async () => {
    for (const body of [
      [],
      { flows: [] },
      { name: 'x' },
      { name: 'x', flows: 'no' },
      { name: 'x', flows: [{ subflows: [] }] },
      { template: null, flows: [] },
      { template: { name: 'x' } },
      { template: { name: 'x' }, flows: [{ name: 'f', subflows: [{ name: 's', messages: [{ message_text: 5 }] }] }] },
    ]) {
      const answer = await app.api('POST', '/api/import/flows', body);
      expect(answer.status, JSON.stringify(body)).to.equal(400);
      expect(answer.body.errors).to.be.an('array').with.length.greaterThan(0);
    }
    const missingName = await app.api('POST', '/api/import/flows', { flows: [] });
    expect(missingName.body.errors).to.deep.equal(['name: required']);
    const missingTemplateName = await app.api('POST', '/api/import/flows', { template: { id: 3 }, flows: [] });
    expect(missingTemplateName.body.errors).to.deep.equal(['template.name: required']);
  });

  it('rolls back everything when the database refuses a row half way', async () => {
    const db = app.deps.db;
    // A failure only the database sees, on the very last row: the template, both flows, every
    // subflow and the other messages were already inserted when it strikes.
    await db.raw(`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.message_text = 'boom' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
    await db.raw('CREATE TRIGGER refuse_boom BEFORE INSERT ON flow_messages FOR EACH ROW EXECUTE FUNCTION refuse_boom()');
    try {
      const document = await exported();
      document.flows[1].subflows[0].messages[0].message_text = 'boom';
      const before = await counts();
      const answer = await app.api('POST', '/api/import/flows', document);
      expect(answer.status).to.equal(500);
      expect(answer.body).to.deep.equal({ errors: ['internal error'] });
      expect(await counts()).to.deep.equal(before);
      const imported = await db('flow_templates').where('name', 'Imported - Móveis').count<Array<{ n: string }>>({ n: '*' });
      expect(Number(imported[0]!.n)).to.equal(1);
    } finally {
      await db.raw('DROP TRIGGER refuse_boom ON flow_messages');
      await db.raw('DROP FUNCTION refuse_boom()');
    }
  });

  it('answers 404 for an unknown or deleted template, 400 for a bad id, 401 without the token', async () => {
    expect((await app.api('GET', '/api/export/flows/999999')).status).to.equal(404);
    const gone = await app.api('POST', '/api/flow-templates', { name: 'apagado' });
    await app.api('DELETE', `/api/flow-templates/${gone.body.id}`);
    expect((await app.api('GET', `/api/export/flows/${gone.body.id}`)).status).to.equal(404);
    const bad = await app.api('GET', '/api/export/flows/0');
    expect(bad.status).to.equal(400);
    expect(bad.body.errors[0]).to.match(/^templateId: /);
    expect((await app.api('GET', `/api/export/flows/${built.templateId}`, undefined, { authorization: '' })).status).to.equal(401);
    expect((await app.api('POST', '/api/import/flows', await exported(), { authorization: 'Bearer nope' })).status).to.equal(401);
  });
});
