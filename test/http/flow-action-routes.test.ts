// SPEC §8 in the admin API: `actions` on flow messages are validated per type, stored, exported
// and imported; `validate` names actions whose service is not configured; `preview` lists them.
import { expect } from 'chai';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

describe('admin API: flow actions (SPEC §8)', () => {
  let app: HttpTestApp;
  let flowId: number;
  let subflowId: number;
  let templateId: number;
  const actions = [
    { type: 'pontta.create_occurrence', title: 'Assistência {{contact_name}}', note: 'Pedido {{pedido}}', save_result_as: 'ocorrencia' },
    { type: 'pontta.attach_files', occurrence: '{{ocorrencia}}' },
    { type: 'drive.upload_files' },
    { type: 'sheets.append_row', values: ['{{pedido}}', '{{ocorrencia}}'] },
    { type: 'http.post', url: 'https://hooks.example/x', body: { pedido: '{{pedido}}', n: 1 }, save_result_as: 'hook', result_path: 'data.id' },
  ];

  before(async () => {
    app = await startHttpTestApp();
    templateId = (await app.api('POST', '/api/flow-templates', { name: 'Ações' })).body.id;
    flowId = (await app.api('POST', '/api/flows', { template_id: templateId, name: 'Fluxo', is_default: true })).body.id;
    subflowId = (await app.api('POST', '/api/subflows', { flow_id: flowId, name: 'Assistência' })).body.id;
    await app.api('POST', '/api/flow-messages', { subflow_id: subflowId, message_text: 'Pedido?', save_response_as: 'pedido' });
    const created = await app.api('POST', '/api/flow-messages', {
      subflow_id: subflowId,
      message_text: 'Ocorrência {{ocorrencia|sem número}} {{action_error}}',
      wait_for_response: false,
      order_index: 1,
      actions,
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    await app.api('POST', '/api/flow-messages', { subflow_id: subflowId, message_text: 'Fim?', order_index: 2 });
  });
  after(() => app.close());

  it('stores the actions with the message and answers them as given', async () => {
    const messages = (await app.api('GET', `/api/subflows/${subflowId}/messages`)).body;
    expect(messages[1].actions).to.deep.equal(actions);
    expect(messages[0].actions).to.deep.equal([]);
  });

  it('refuses an action with a bad type or bad fields, naming each', async () => {
    const bad = await app.api('POST', '/api/flow-messages', {
      subflow_id: subflowId,
      message_text: 'x',
      actions: [{ type: 'pontta.create_occurrence', note: 'n' }, { type: 'sheets.append_row', values: [] }, { type: 'ftp.get' }, { type: 'http.post', url: 'ftp://x' }],
    });
    expect(bad.status).to.equal(400);
    const errors = (bad.body.errors as string[]).join('\n');
    expect(errors).to.match(/actions\.0\.title/);
    expect(errors).to.match(/actions\.1\.values/);
    expect(errors).to.match(/actions\.2/);
    expect(errors).to.match(/actions\.3\.url/);
    const reserved = await app.api('POST', '/api/flow-messages', { subflow_id: subflowId, message_text: 'x', actions: [{ type: 'http.post', url: 'http://x', save_result_as: 'action_error' }] });
    expect(reserved.status).to.equal(400);
  });

  it('changes the actions with PUT and PATCH', async () => {
    const messages = (await app.api('GET', `/api/subflows/${subflowId}/messages`)).body;
    const id = messages[2].id;
    expect((await app.api('PATCH', `/api/flow-messages/${id}`, { actions: [{ type: 'drive.upload_files', folder_id: 'f1' }] })).status).to.equal(200);
    expect((await app.api('GET', `/api/flow-messages/${id}`)).body.actions).to.deep.equal([{ type: 'drive.upload_files', folder_id: 'f1' }]);
    expect((await app.api('PATCH', `/api/flow-messages/${id}`, { actions: [] })).status).to.equal(200);
    expect((await app.api('GET', `/api/flow-messages/${id}`)).body.actions).to.deep.equal([]);
  });

  it('exports and imports the actions', async () => {
    const exported = (await app.api('GET', `/api/export/flows/${templateId}`)).body;
    expect(exported.flows[0].subflows[0].messages[1].actions).to.deep.equal(actions);
    const imported = await app.api('POST', '/api/import/flows', exported);
    expect(imported.status, JSON.stringify(imported.body)).to.equal(201);
    const flows = (await app.api('GET', `/api/templates/${imported.body.template_id}/flows`)).body;
    const subflows = (await app.api('GET', `/api/flows/${flows[0].id}/subflows`)).body;
    const messages = (await app.api('GET', `/api/subflows/${subflows[0].id}/messages`)).body;
    expect(messages[1].actions).to.deep.equal(actions);
  });

  it('says in validate which actions need a service that is not configured', async () => {
    const report = (await app.api('GET', `/api/flows/${flowId}/validate`)).body;
    const findings = report.findings.filter((finding: any) => finding.kind === 'action_not_configured');
    expect(findings.map((finding: any) => finding.message.match(/\((pontta|drive|sheets)[^)]*\)/)?.[0])).to.deep.equal([
      '(pontta.create_occurrence)',
      '(pontta.attach_files)',
      '(drive.upload_files)',
      '(sheets.append_row)',
    ]);
    expect(findings.every((finding: any) => finding.severity === 'error')).to.equal(true);
    expect(report.findings.filter((finding: any) => finding.kind === 'unknown_variable')).to.deep.equal([]);
  });

  it('previews the actions as if they succeeded', async () => {
    const preview = await app.api('POST', `/api/flows/${flowId}/preview`, { inputs: [{ text: 'oi' }, { text: '4521' }] });
    expect(preview.status, JSON.stringify(preview.body)).to.equal(200);
    const step = preview.body.steps[1];
    expect(step.actions.map((action: any) => action.type)).to.deep.equal(actions.map((action) => action.type));
    expect(step.replies.map((reply: any) => reply.text)).to.deep.equal(['Ocorrência [pontta.create_occurrence] ', 'Fim?']);
  });
});
