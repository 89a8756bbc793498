// SPEC §10 fields through the admin API: validation, the export file and import (references
// between subflows kept), `validate`, `preview` with silence and business hours, and the
// BUSINESS_HOURS / HANDOFF_RESUME_MINUTES settings.
import { expect } from 'chai';
import { buildAttendantFlow, CLOSE_TEXT, GREETING, MENU, OUT_OF_HOURS, REMINDER } from '../support/attendant-flow.js';
import type { BuiltFlow } from '../support/admin-flow-builder.js';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

describe('admin API: SPEC §10 fields', () => {
  let app: HttpTestApp;
  let built: BuiltFlow;
  const admin = (method: string, path: string, body?: unknown) => app.api(method, path, body);

  before(async () => {
    app = await startHttpTestApp();
    built = await buildAttendantFlow({ admin }, { reminder: 0.05, close: 0.1 });
  });
  after(() => app.close());

  it('stores and answers the fields, fractions of minutes included', async () => {
    const flow = await admin('GET', `/api/flows/${built.flowId}`);
    expect(flow.body).to.include({ close_after_minutes: 0.1, close_text: CLOSE_TEXT });
    const subflow = await admin('GET', `/api/subflows/${built.subflowIds['Atendente']}`);
    expect(subflow.body).to.include({ handoff: true, business_hours_only: true, out_of_hours_subflow_id: built.subflowIds['Fora do horário'] });
    const message = await admin('GET', `/api/flow-messages/${built.messageIds['Início']![1]}`);
    expect(message.body).to.include({ reminder_after_minutes: 0.05, reminder_text: REMINDER, max_reprompts: 2, fallback_subflow_id: built.subflowIds['Ajuda'] });
  });

  it('refuses bad values with 400 naming each field', async () => {
    const bad = await admin('PUT', `/api/flow-messages/${built.messageIds['Início']![1]}`, {
      reminder_after_minutes: -1,
      max_reprompts: 1.5,
      fallback_subflow_id: 'x',
    });
    expect(bad.status).to.equal(400);
    expect(bad.body.errors.map((error: string) => error.split(':')[0]).sort()).to.deep.equal(['fallback_subflow_id', 'max_reprompts', 'reminder_after_minutes']);
    const flow = await admin('PATCH', `/api/flows/${built.flowId}`, { close_after_minutes: 'soon' });
    expect(flow.status).to.equal(400);
    expect(flow.body.errors[0]).to.match(/^close_after_minutes: /);
    // A subflow of another flow, or none at all, cannot be the fallback.
    const other = await admin('POST', '/api/flows', { template_id: built.templateId, name: 'Outro' });
    const foreign = await admin('POST', '/api/subflows', { flow_id: other.body.id, name: 'Alheio' });
    const crossFlow = await admin('PUT', `/api/flow-messages/${built.messageIds['Início']![1]}`, { fallback_subflow_id: foreign.body.id });
    expect(crossFlow.status).to.equal(400);
    expect(crossFlow.body.errors).to.deep.equal([`fallback_subflow_id: subflow ${foreign.body.id} belongs to another flow`]);
    const missing = await admin('PATCH', `/api/subflows/${built.subflowIds['Atendente']}`, { out_of_hours_subflow_id: 999_999 });
    expect(missing.status).to.equal(400);
  });

  it('exports the columns and imports them with the references pointing at the copies', async () => {
    const file = (await admin('GET', `/api/export/flows/${built.templateId}`)).body;
    const flow = file.flows.find((candidate: any) => candidate.id === built.flowId);
    expect(flow).to.include({ close_after_minutes: 0.1, close_text: CLOSE_TEXT });
    const imported = await admin('POST', '/api/import/flows', file);
    expect(imported.status, JSON.stringify(imported.body)).to.equal(201);
    const copy = await app.deps.db('flows').where({ template_id: imported.body.template_id, name: 'Atendimento' }).first();
    expect(copy).to.include({ close_after_minutes: 0.1, close_text: CLOSE_TEXT });
    const subflows = await app.deps.db('subflows').where({ flow_id: copy.id }).orderBy('order_index');
    const byName = Object.fromEntries(subflows.map((subflow: any) => [subflow.name, subflow]));
    expect(byName['Atendente']).to.include({ handoff: true, business_hours_only: true, out_of_hours_subflow_id: byName['Fora do horário'].id });
    const menu = await app.deps.db('flow_messages').where({ subflow_id: byName['Início'].id, message_text: MENU }).first();
    expect(menu).to.include({ reminder_after_minutes: 0.05, reminder_text: REMINDER, max_reprompts: 2, fallback_subflow_id: byName['Ajuda'].id });
  });

  it('validate flags settings that do nothing; the machine shows the timers', async () => {
    const report = await admin('GET', `/api/flows/${built.flowId}/validate`);
    expect(report.body.findings.filter((finding: any) => finding.kind !== 'unknown_variable')).to.deep.equal([]);
    await admin('PUT', `/api/flow-messages/${built.messageIds['Orçamento']![1]}`, { reminder_after_minutes: 1 });
    const flagged = await admin('GET', `/api/flows/${built.flowId}/validate`);
    expect(flagged.body.findings.map((finding: any) => finding.kind)).to.include('attendant_setting');
    await admin('PUT', `/api/flow-messages/${built.messageIds['Orçamento']![1]}`, { reminder_after_minutes: null });
    const machine = await admin('GET', `/api/flows/${built.flowId}/machine`);
    expect(JSON.stringify(machine.body)).to.include('"after":{"3000"').and.include('"6000"').and.include('hours_check');
  });

  it('preview shows reminders and closing during a wait, and business hours at the given time', async () => {
    const preview = await admin('POST', `/api/flows/${built.flowId}/preview`, {
      contact_name: 'Maria',
      inputs: [{ text: 'Oi' }, { wait_minutes: 1 }],
    });
    expect(preview.status, JSON.stringify(preview.body)).to.equal(200);
    expect(preview.body.steps.map((step: any) => step.replies.map((reply: any) => reply.text))).to.deep.equal([
      [GREETING.replace('{{contact_name}}', 'Maria'), MENU],
      [REMINDER, CLOSE_TEXT],
    ]);
    expect(preview.body.steps[1].completed).to.equal(true);

    const hours = await admin('PUT', '/api/settings/BUSINESS_HOURS', {
      value: { timezone: 'America/Sao_Paulo', week: { mon: [['08:00', '18:00']] }, holidays: ['2026-12-25'] },
    });
    expect(hours.status, JSON.stringify(hours.body)).to.equal(200);
    const christmas = await admin('POST', `/api/flows/${built.flowId}/preview`, { at: '2026-12-25T10:00:00-03:00', inputs: [{ text: 'Oi' }, { text: '2' }] });
    expect(christmas.body.steps[1].replies.map((reply: any) => reply.text)).to.deep.equal([OUT_OF_HOURS]);
    const monday = await admin('POST', `/api/flows/${built.flowId}/preview`, { at: '2026-11-30T10:00:00-03:00', inputs: [{ text: 'Oi' }, { text: '2' }] });
    expect(monday.body.steps[1]).to.include({ handed_off: true });
  });

  it('BUSINESS_HOURS refuses unknown time zones, bad times and overlapping windows with 400', async () => {
    const put = (value: unknown) => admin('PUT', '/api/settings/BUSINESS_HOURS', { value });
    const zone = await put({ timezone: 'America/Atlantida', week: {} });
    expect(zone.status).to.equal(400);
    expect(zone.body.errors).to.deep.equal(['value.timezone: unknown time zone "America/Atlantida"']);
    const overlap = await put({ timezone: 'UTC', week: { tue: [['08:00', '12:00'], ['11:30', '14:00']] } });
    expect(overlap.body.errors).to.deep.equal(['value.week.tue: windows must not overlap']);
    const badTime = await put({ timezone: 'UTC', week: { tue: [['8h', '12:00']] } });
    expect(badTime.status).to.equal(400);
    expect(badTime.body.errors[0]).to.match(/^value\.week\.tue\.0\.0: must be a time/);
    const cleared = await put(null);
    expect(cleared.status).to.equal(200);
    const resume = await admin('PUT', '/api/settings/HANDOFF_RESUME_MINUTES', { value: 0 });
    expect(resume.status).to.equal(400);
  });
});
