import { expect } from 'chai';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

describe('admin API: PATCH, reorder, cascades and flow tooling', () => {
  let app: HttpTestApp;
  before(async () => {
    app = await startHttpTestApp();
  });
  after(() => app.close());

  async function created(path: string, body: unknown): Promise<number> {
    const answer = await app.api('POST', path, body);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    return answer.body.id as number;
  }

  async function tree() {
    const templateId = await created('/api/flow-templates', { name: 'T' });
    const flowId = await created('/api/flows', { template_id: templateId, name: 'F' });
    const subflows = [
      await created('/api/subflows', { flow_id: flowId, name: 'a', order_index: 0 }),
      await created('/api/subflows', { flow_id: flowId, name: 'b', order_index: 1 }),
      await created('/api/subflows', { flow_id: flowId, name: 'c', order_index: 2 }),
    ];
    const messages = [
      await created('/api/flow-messages', { subflow_id: subflows[0], message_text: 'um', order_index: 0 }),
      await created('/api/flow-messages', { subflow_id: subflows[0], message_text: 'dois', order_index: 1 }),
    ];
    return { templateId, flowId, subflows, messages };
  }

  describe('PATCH', () => {
    it('updates only the given fields of each resource and keeps the rest', async () => {
      const { templateId, flowId, subflows, messages } = await tree();
      const patches: Array<[string, unknown, Record<string, unknown>]> = [
        [`/api/flow-templates/${templateId}`, { description: 'd' }, { name: 'T', description: 'd' }],
        [`/api/flows/${flowId}`, { order_index: 3 }, { name: 'F', order_index: 3 }],
        [`/api/subflows/${subflows[0]}`, { trigger_keywords: ['oi'] }, { name: 'a', trigger_keywords: ['oi'] }],
        [`/api/flow-messages/${messages[0]}`, { delay_seconds: 2 }, { message_text: 'um', delay_seconds: 2, wait_for_response: true }],
      ];
      for (const [path, body, expected] of patches) {
        const answer = await app.api('PATCH', path, body);
        expect(answer.status, path).to.equal(200);
        expect(answer.body).to.deep.equal({ status: 'updated' });
        expect((await app.api('GET', path)).body, path).to.deep.include(expected);
      }
    });

    it('answers 400 naming the field, 400 for an empty patch, 404 for unknown ids, 401 without a token', async () => {
      const bad = await app.api('PATCH', '/api/flow-messages/1', { delay_seconds: -1 });
      expect(bad.status).to.equal(400);
      expect(bad.body.errors).to.deep.equal(['delay_seconds: must be at least 0']);
      expect((await app.api('PATCH', '/api/flows/1', {})).body.errors).to.deep.equal(['body: no field to update']);
      expect((await app.api('PATCH', '/api/subflows/999999', { name: 'x' })).status).to.equal(404);
      expect((await app.api('PATCH', '/api/flow-templates/1', { name: 'x' }, { authorization: '' })).status).to.equal(401);
    });
  });

  describe('reorder', () => {
    it('reorders subflows, messages and flows to exactly the given order, and logs it', async () => {
      const { templateId, flowId, subflows, messages } = await tree();
      const [a, b, c] = subflows as [number, number, number];
      const answer = await app.api('POST', `/api/flows/${flowId}/subflows/reorder`, { ids: [c, a, b] });
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.equal({ status: 'reordered' });
      const listed = (await app.api('GET', `/api/flows/${flowId}/subflows`)).body;
      expect(listed.map((row: any) => [row.id, row.order_index])).to.deep.equal([[c, 0], [a, 1], [b, 2]]);
      const log = await app.deps.db('activity_logs').where({ action: 'subflow.reordered' }).orderBy('id', 'desc').first();
      expect(log).to.deep.include({ details: { flow_id: flowId }, before: [a, b, c], after: [c, a, b] });

      const reversed = [...messages].reverse();
      expect((await app.api('POST', `/api/subflows/${a}/messages/reorder`, { ids: reversed })).status).to.equal(200);
      expect((await app.api('GET', `/api/subflows/${a}/messages`)).body.map((row: any) => row.id)).to.deep.equal(reversed);

      const second = await created('/api/flows', { template_id: templateId, name: 'G' });
      expect((await app.api('POST', `/api/templates/${templateId}/flows/reorder`, { ids: [second, flowId] })).status).to.equal(200);
      expect((await app.api('GET', `/api/templates/${templateId}/flows`)).body.map((row: any) => row.id)).to.deep.equal([second, flowId]);
    });

    it('answers 400 unless ids are exactly the active children, and 404 for an unknown parent', async () => {
      const { flowId, subflows } = await tree();
      const [a, b, c] = subflows as [number, number, number];
      await app.api('DELETE', `/api/subflows/${c}`);
      const cases: Array<[unknown, RegExp]> = [
        [{ ids: [a] }, /^ids: must list exactly the active subflows \(missing \d+\)$/],
        [{ ids: [a, b, c] }, /^ids: .*not active subflows of it \d+/],
        [{ ids: [a, a, b] }, /^ids: must not repeat an id$/],
        [{ ids: [] }, /^ids: must list at least one id$/],
        [{ ids: 'a,b' }, /^ids: must be a list of ids$/],
        [{}, /^ids: required$/],
      ];
      for (const [body, error] of cases) {
        const answer = await app.api('POST', `/api/flows/${flowId}/subflows/reorder`, body);
        expect(answer.status, JSON.stringify(body)).to.equal(400);
        expect(answer.body.errors[0]).to.match(error);
      }
      expect((await app.api('POST', '/api/flows/999999/subflows/reorder', { ids: [a] })).status).to.equal(404);
      expect((await app.api('POST', '/api/subflows/999999/messages/reorder', { ids: [1] })).status).to.equal(404);
      expect((await app.api('POST', '/api/templates/999999/flows/reorder', { ids: [1] })).status).to.equal(404);
    });
  });

  describe('default flow and deactivation', () => {
    it('never leaves two active defaults, and deleting a template deactivates its flows', async () => {
      const templateId = await created('/api/flow-templates', { name: 'Defaults' });
      const one = await created('/api/flows', { template_id: templateId, name: 'one', is_default: true });
      const two = await created('/api/flows', { template_id: templateId, name: 'two' });
      expect((await app.api('PATCH', `/api/flows/${two}`, { is_default: true })).status).to.equal(200);
      const defaults = await app.deps.db('flows').where({ is_default: true, is_active: true }).pluck('id');
      expect(defaults).to.deep.equal([two]);
      expect((await app.api('GET', `/api/flows/${one}`)).body.is_default).to.equal(false);

      expect((await app.api('DELETE', `/api/flow-templates/${templateId}`)).status).to.equal(200);
      const flows = await app.deps.db('flows').where({ template_id: templateId }).orderBy('id');
      expect(flows.map((flow) => [flow.is_active, flow.is_default])).to.deep.equal([[false, false], [false, false]]);
      expect(await app.deps.db('activity_logs').where({ action: 'flow.deleted' }).whereRaw("details->>'id' = ?", [String(two)])).to.have.length(1);
    });
  });

  describe('flow tooling', () => {
    async function flowWith(subflows: Array<{ name: string; keywords?: string[]; messages: Array<Record<string, unknown>> }>) {
      const templateId = await created('/api/flow-templates', { name: 'Tools' });
      const flowId = await created('/api/flows', { template_id: templateId, name: 'Tools' });
      const ids: number[] = [];
      for (const [index, subflow] of subflows.entries()) {
        const subflowId = await created('/api/subflows', { flow_id: flowId, name: subflow.name, trigger_keywords: subflow.keywords ?? [], order_index: index });
        ids.push(subflowId);
        for (const [order, message] of subflow.messages.entries()) {
          await created('/api/flow-messages', { subflow_id: subflowId, order_index: order, ...message });
        }
      }
      return { flowId, ids };
    }

    it('GET /machine answers the compiled config, 422 with the problems when it does not compile, 404 for unknown flows', async () => {
      const { flowId } = await flowWith([
        { name: 'oi', messages: [{ message_text: 'Olá', wait_for_response: false }, { message_text: 'Menu' }] },
        { name: 'um', keywords: ['1'], messages: [{ message_text: 'Um', wait_for_response: false }] },
      ]);
      const answer = await app.api('GET', `/api/flows/${flowId}/machine`);
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include({ id: `flow_${flowId}`, initial: 'start' });
      expect(answer.body.states).to.have.property('completed');

      const empty = await flowWith([{ name: 'vazio', messages: [] }]);
      const broken = await app.api('GET', `/api/flows/${empty.flowId}/machine`);
      expect(broken.status).to.equal(422);
      expect(broken.body.errors).to.deep.equal(['flow: no subflow has messages']);
      expect((await app.api('GET', '/api/flows/999999/machine')).status).to.equal(404);
      expect((await app.api('GET', '/api/flows/abc/machine')).status).to.equal(400);
    });

    it('GET /validate lists findings with snake_case fields', async () => {
      const { flowId, ids } = await flowWith([
        { name: 'oi', messages: [{ message_text: 'Olá {{apelido}}' }] },
        { name: 'vazio', keywords: ['x'], messages: [] },
      ]);
      const answer = await app.api('GET', `/api/flows/${flowId}/validate`);
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include({ flow_id: flowId, compiles: true, valid: false });
      const kinds = answer.body.findings.map((finding: any) => finding.kind);
      expect(kinds).to.have.members(['empty_subflow', 'menu_without_exit', 'unknown_variable']);
      expect(answer.body.findings.find((finding: any) => finding.kind === 'empty_subflow')).to.include({ subflow_id: ids[1] });
      expect((await app.api('GET', '/api/flows/999999/validate')).status).to.equal(404);
    });

    it('GET /validate lists compile errors of a flow edited into a state that does not compile, and says whether it is the default', async () => {
      const { flowId, ids } = await flowWith([
        { name: 'a', messages: [{ message_text: 'A', wait_for_response: false }] },
        { name: 'b', messages: [{ message_text: 'B', wait_for_response: false }] },
      ]);
      const fine = await app.api('GET', `/api/flows/${flowId}/validate`);
      expect(fine.body).to.include({ flow_id: flowId, is_default: false, compiles: true });

      // Each subflow falls back to the other when its chain ends: the messages loop forever. The
      // API refuses such parents, so the edit is made in the table, as an old row would hold it.
      const [a, b] = ids as [number, number];
      await app.deps.db('subflows').where({ id: a }).update({ parent_subflow_id: b });
      await app.deps.db('subflows').where({ id: b }).update({ parent_subflow_id: a });
      const loop = await app.api('GET', `/api/flows/${flowId}/validate`);
      expect(loop.status).to.equal(200);
      expect(loop.body).to.include({ flow_id: flowId, is_default: false, compiles: false, valid: false });
      const compileErrors = loop.body.findings.filter((finding: any) => finding.kind === 'compile_error');
      expect(compileErrors).to.have.length(1);
      expect(compileErrors[0]).to.include({ severity: 'error' });
      expect(compileErrors[0].message).to.match(/^messages that wait for nothing form a loop: subflow \d+ message \d+ -> /);

      // Through the API: a draft loses its last message.
      const single = await flowWith([{ name: 'só', messages: [{ message_text: 'Só' }] }]);
      const [messageId] = (await app.api('GET', `/api/subflows/${single.ids[0]}/messages`)).body.map((row: any) => row.id);
      expect((await app.api('DELETE', `/api/flow-messages/${messageId}`)).status).to.equal(200);
      const empty = await app.api('GET', `/api/flows/${single.flowId}/validate`);
      expect(empty.body).to.include({ compiles: false, valid: false });
      expect(empty.body.findings).to.deep.include({ kind: 'compile_error', severity: 'error', message: 'no subflow has messages' });

      // The default flow broken behind the API's back says it is the default.
      await app.deps.db('flows').update({ is_default: false });
      await app.deps.db('flows').where({ id: flowId }).update({ is_default: true });
      expect((await app.api('GET', `/api/flows/${flowId}/validate`)).body).to.include({ is_default: true, compiles: false });
      await app.deps.db('flows').where({ id: flowId }).update({ is_default: false });
    });

    it('POST /preview answers per input, touches nothing, and validates its body', async () => {
      const { flowId } = await flowWith([
        { name: 'oi', messages: [{ message_text: 'Olá {{contact_name}}', wait_for_response: false }, { message_text: 'Menu' }] },
        { name: 'arquivo', keywords: ['1'], messages: [{ message_text: 'Envie o PDF', wait_for_response: false, wait_for_file: true, expected_file_types: ['pdf'] }, { message_text: 'Ok', wait_for_response: false }] },
      ]);
      const before = await app.deps.db('user_conversations').count({ n: '*' }).first();
      const answer = await app.api('POST', `/api/flows/${flowId}/preview`, {
        contact_name: 'Ana',
        inputs: [{ text: 'oi' }, { text: '1' }, { file: { name: 'x.pdf' } }],
      });
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
      expect(answer.body.steps.map((step: any) => step.replies.map((reply: any) => reply.text))).to.deep.equal([['Olá Ana', 'Menu'], ['Envie o PDF'], ['Ok']]);
      expect(answer.body.steps[2]).to.include({ completed: true });
      expect(await app.deps.db('user_conversations').count({ n: '*' }).first()).to.deep.equal(before);

      const bad = await app.api('POST', `/api/flows/${flowId}/preview`, { inputs: [{ text: 5, file: { name: '' } }], contact_name: 1 });
      expect(bad.status).to.equal(400);
      expect(bad.body.errors).to.have.members(['inputs.0.text: must be text', 'inputs.0.file.name: must not be empty', 'contact_name: must be text']);
      expect((await app.api('POST', `/api/flows/${flowId}/preview`, { inputs: [] })).body.errors).to.deep.equal(['inputs: must hold at least one input']);
      expect((await app.api('POST', '/api/flows/999999/preview', { inputs: [{ text: 'a' }] })).status).to.equal(404);
      expect((await app.api('POST', `/api/flows/${flowId}/preview`, { inputs: [{ text: 'a' }] }, { authorization: 'Bearer nope' })).status).to.equal(401);
    });
  });
});
