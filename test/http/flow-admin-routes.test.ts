import { expect } from 'chai';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

describe('admin API: templates, flows, subflows, messages', () => {
  let app: HttpTestApp;
  before(async () => {
    app = await startHttpTestApp();
  });
  after(() => app.close());

  async function created(path: string, body: unknown): Promise<number> {
    const answer = await app.api('POST', path, body);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    expect(answer.body.status).to.equal('created');
    expect(answer.body.id).to.be.a('number');
    return answer.body.id as number;
  }

  async function activity(action: string) {
    return app.deps.db('activity_logs').where({ action }).orderBy('id', 'desc').first();
  }

  describe('flow templates', () => {
    it('creates, lists with flows_count, reads, updates and deletes (deactivates)', async () => {
      const id = await created('/api/flow-templates', { name: 'Móveis', description: 'bot', created_by: 'ana' });
      const flowId = await created('/api/flows', { template_id: id, name: 'Atendimento' });
      await created('/api/flows', { template_id: id, name: 'Outro' });
      await app.api('DELETE', `/api/flows/${flowId}`);

      const list = await app.api('GET', '/api/flow-templates');
      expect(list.status).to.equal(200);
      const listed = list.body.find((row: any) => row.id === id);
      expect(listed).to.include({ name: 'Móveis', description: 'bot', created_by: 'ana', is_active: true, flows_count: 1 });

      const one = await app.api('GET', `/api/flow-templates/${id}`);
      expect(one.status).to.equal(200);
      expect(one.body).to.include({ id, name: 'Móveis' });

      const updated = await app.api('PUT', `/api/flow-templates/${id}`, { name: 'Móveis planejados', description: null });
      expect(updated.status).to.equal(200);
      expect(updated.body).to.deep.equal({ status: 'updated' });
      expect((await app.api('GET', `/api/flow-templates/${id}`)).body).to.include({ name: 'Móveis planejados', description: null });

      const deleted = await app.api('DELETE', `/api/flow-templates/${id}`);
      expect(deleted.body).to.deep.equal({ status: 'deleted' });
      expect(await app.deps.db('flow_templates').where({ id }).first()).to.include({ is_active: false });
      expect((await app.api('GET', '/api/flow-templates')).body.map((row: any) => row.id)).not.to.include(id);
      expect((await app.api('GET', `/api/flow-templates/${id}`)).status).to.equal(404);
    });

    it('records every write in activity_logs with before and after', async () => {
      const id = await created('/api/flow-templates', { name: 'Logged' });
      expect(await activity('flow_template.created')).to.deep.include({ actor: 'admin', details: { id } });
      await app.api('PUT', `/api/flow-templates/${id}`, { name: 'Logged 2' });
      const update = await activity('flow_template.updated');
      expect(update.before.name).to.equal('Logged');
      expect(update.after.name).to.equal('Logged 2');
      await app.api('DELETE', `/api/flow-templates/${id}`);
      const deletion = await activity('flow_template.deleted');
      expect(deletion.before.is_active).to.equal(true);
      expect(deletion.after.is_active).to.equal(false);
    });

    it('answers 400 naming each bad field', async () => {
      const answer = await app.api('POST', '/api/flow-templates', { name: 'x'.repeat(201), description: 5 });
      expect(answer.status).to.equal(400);
      expect(answer.body.errors).to.have.members([
        'name: must be at most 200 characters',
        'description: must be text or null',
      ]);
      const missing = await app.api('POST', '/api/flow-templates', {});
      expect(missing.body.errors).to.deep.equal(['name: required']);
      const blank = await app.api('POST', '/api/flow-templates', { name: '   ' });
      expect(blank.body.errors).to.deep.equal(['name: must not be empty']);
      const empty = await app.api('PUT', '/api/flow-templates/1', { unknown: true });
      expect(empty.status).to.equal(400);
      expect(empty.body.errors).to.deep.equal(['body: no field to update']);
    });

    it('answers 400 for an id that is not a positive integer and 404 for an unknown one', async () => {
      for (const bad of ['abc', '0', '-1', '1.5', '99999999999']) {
        const answer = await app.api('GET', `/api/flow-templates/${bad}`);
        expect(answer.status, bad).to.equal(400);
        expect(answer.body.errors[0]).to.match(/^id: /);
      }
      for (const [method, body] of [['GET'], ['PUT', { name: 'x' }], ['DELETE']] as const) {
        const answer = await app.api(method, '/api/flow-templates/424242', body);
        expect(answer.status, method).to.equal(404);
        expect(answer.body).to.deep.equal({ errors: ['template 424242 not found'] });
      }
    });
  });

  describe('flows', () => {
    let templateId: number;
    before(async () => {
      templateId = await created('/api/flow-templates', { name: 'Flows' });
    });

    it('creates, lists by template with subflows_count (ordered), reads, updates and deletes', async () => {
      const second = await created('/api/flows', { template_id: templateId, name: 'B', order_index: 2 });
      const first = await created('/api/flows', { template_id: templateId, name: 'A', description: 'd', order_index: 1 });
      await created('/api/subflows', { flow_id: first, name: 's1' });
      await created('/api/subflows', { flow_id: first, name: 's2' });

      const list = await app.api('GET', `/api/templates/${templateId}/flows`);
      expect(list.status).to.equal(200);
      expect(list.body.map((row: any) => [row.id, row.subflows_count])).to.deep.equal([[first, 2], [second, 0]]);
      expect(list.body[0]).to.include({ template_id: templateId, name: 'A', description: 'd', is_default: false });

      expect((await app.api('GET', `/api/flows/${first}`)).body).to.include({ id: first, name: 'A' });
      expect((await app.api('PUT', `/api/flows/${first}`, { name: 'A2', order_index: 5 })).body).to.deep.equal({ status: 'updated' });
      expect((await app.api('GET', `/api/flows/${first}`)).body).to.include({ name: 'A2', order_index: 5 });
      expect(await activity('flow.updated')).to.deep.include({ details: { id: first } });

      expect((await app.api('DELETE', `/api/flows/${second}`)).body).to.deep.equal({ status: 'deleted' });
      expect((await app.api('GET', `/api/flows/${second}`)).status).to.equal(404);
      expect((await app.api('GET', `/api/templates/${templateId}/flows`)).body).to.have.length(1);
    });

    it('answers 404 for the flows of an unknown template', async () => {
      const answer = await app.api('GET', '/api/templates/987654/flows');
      expect(answer.status).to.equal(404);
    });

    it('refuses a missing or inactive template_id with 400 naming the field', async () => {
      const missing = await app.api('POST', '/api/flows', { template_id: 987654, name: 'x' });
      expect(missing.status).to.equal(400);
      expect(missing.body.errors).to.deep.equal(['template_id: no active template with id 987654']);
      const inactive = await created('/api/flow-templates', { name: 'gone' });
      await app.api('DELETE', `/api/flow-templates/${inactive}`);
      const answer = await app.api('POST', '/api/flows', { template_id: inactive, name: 'x' });
      expect(answer.status).to.equal(400);
      expect(answer.body.errors[0]).to.match(/^template_id: /);
      const moved = await created('/api/flows', { template_id: templateId, name: 'moving' });
      const move = await app.api('PUT', `/api/flows/${moved}`, { template_id: inactive });
      expect(move.status).to.equal(400);
      expect(move.body.errors[0]).to.match(/^template_id: /);
    });

    it('answers 400 naming each bad field', async () => {
      const answer = await app.api('POST', '/api/flows', {
        template_id: 'one',
        name: '',
        is_default: 'yes',
        order_index: 1.5,
      });
      expect(answer.status).to.equal(400);
      expect(answer.body.errors).to.have.members([
        'template_id: must be a whole number',
        'name: must not be empty',
        'is_default: must be true or false',
        'order_index: must be a whole number',
      ]);
      const missing = await app.api('POST', '/api/flows', { name: 'x' });
      expect(missing.body.errors).to.deep.equal(['template_id: required']);
    });

    it('moves the default: making a flow default takes it from the others in one go', async () => {
      const a = await created('/api/flows', { template_id: templateId, name: 'default A', is_default: true });
      const b = await created('/api/flows', { template_id: templateId, name: 'default B', is_default: true });
      const defaults = () => app.deps.db('flows').where({ is_default: true, is_active: true }).pluck('id');
      expect(await defaults()).to.deep.equal([b]);
      expect((await activity('flow.created')).details).to.deep.equal({ id: b, took_default_from: [a] });

      expect((await app.api('PUT', `/api/flows/${a}`, { is_default: true })).status).to.equal(200);
      expect(await defaults()).to.deep.equal([a]);
      expect((await app.api('PUT', `/api/flows/${a}`, { is_default: false })).status).to.equal(200);
      expect(await defaults()).to.deep.equal([]);
      await app.api('PUT', `/api/flows/${b}`, { is_default: true });
      await app.api('DELETE', `/api/flows/${b}`);
      expect(await defaults()).to.deep.equal([]);
    });

    it('answers 409, never 500, when another transaction makes a second default at the same moment', async () => {
      const current = await created('/api/flows', { template_id: templateId, name: 'current', is_default: true });
      const wanted = await created('/api/flows', { template_id: templateId, name: 'wanted' });
      const rival = await created('/api/flows', { template_id: templateId, name: 'rival' });

      // A rival transaction holds the current default's row while it moves the default elsewhere,
      // so the request's own move waits for it and then collides with the rival's new default.
      const trx = await app.deps.db.transaction();
      try {
        await trx('flows').where({ id: current }).update({ is_default: false });
        const pending = app.api('PUT', `/api/flows/${wanted}`, { is_default: true });
        await waitForLockWaiter();
        await trx('flows').where({ id: rival }).update({ is_default: true });
        await trx.commit();
        const answer = await pending;
        expect(answer.status).to.equal(409);
        expect(answer.body.errors[0]).to.match(/^is_default: /);
      } finally {
        if (!trx.isCompleted()) await trx.rollback();
      }
      const defaults = await app.deps.db('flows').where({ is_default: true, is_active: true }).pluck('id');
      expect(defaults).to.deep.equal([rival]);
    });

    async function waitForLockWaiter(): Promise<void> {
      for (let attempt = 0; attempt < 200; attempt += 1) {
        const result = await app.deps.db.raw(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        if (result.rows[0].n > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('the request never waited for the lock');
    }
  });

  describe('subflows', () => {
    let flowId: number;
    let otherFlowId: number;
    before(async () => {
      const templateId = await created('/api/flow-templates', { name: 'Subflows' });
      flowId = await created('/api/flows', { template_id: templateId, name: 'main' });
      otherFlowId = await created('/api/flows', { template_id: templateId, name: 'other' });
    });

    it('creates, lists with messages_count in order, reads, updates and deletes', async () => {
      const menu = await created('/api/subflows', {
        flow_id: flowId,
        name: 'Menu',
        trigger_keywords: ['menu', ' Orçamento '],
        order_index: 1,
      });
      const first = await created('/api/subflows', { flow_id: flowId, name: 'Início', order_index: 0 });
      await created('/api/flow-messages', { subflow_id: menu, message_text: 'Olá' });

      const list = await app.api('GET', `/api/flows/${flowId}/subflows`);
      expect(list.status).to.equal(200);
      expect(list.body.map((row: any) => [row.id, row.messages_count])).to.deep.equal([[first, 0], [menu, 1]]);
      expect(list.body[1]).to.deep.include({ trigger_keywords: ['menu', 'Orçamento'], parent_subflow_id: null });

      const child = await created('/api/subflows', { flow_id: flowId, name: 'Filho', parent_subflow_id: menu });
      expect((await app.api('GET', `/api/subflows/${child}`)).body).to.include({ parent_subflow_id: menu });
      const update = await app.api('PUT', `/api/subflows/${child}`, { trigger_keywords: ['1', 'opção 1'], parent_subflow_id: null });
      expect(update.body).to.deep.equal({ status: 'updated' });
      expect((await app.api('GET', `/api/subflows/${child}`)).body).to.deep.include({
        trigger_keywords: ['1', 'opção 1'],
        parent_subflow_id: null,
      });
      expect((await app.api('DELETE', `/api/subflows/${child}`)).body).to.deep.equal({ status: 'deleted' });
      expect((await app.api('GET', `/api/subflows/${child}`)).status).to.equal(404);
      expect(await activity('subflow.deleted')).to.deep.include({ details: { id: child } });
    });

    it('refuses a parent that is missing, inactive, of another flow, or makes a cycle (400)', async () => {
      const elsewhere = await created('/api/subflows', { flow_id: otherFlowId, name: 'elsewhere' });
      const foreign = await app.api('POST', '/api/subflows', { flow_id: flowId, name: 'x', parent_subflow_id: elsewhere });
      expect(foreign.status).to.equal(400);
      expect(foreign.body.errors[0]).to.match(/^parent_subflow_id: /);

      const missing = await app.api('POST', '/api/subflows', { flow_id: flowId, name: 'x', parent_subflow_id: 999999 });
      expect(missing.status).to.equal(400);
      expect(missing.body.errors[0]).to.match(/^parent_subflow_id: /);

      const gone = await created('/api/subflows', { flow_id: flowId, name: 'gone' });
      await app.api('DELETE', `/api/subflows/${gone}`);
      const inactive = await app.api('POST', '/api/subflows', { flow_id: flowId, name: 'x', parent_subflow_id: gone });
      expect(inactive.status).to.equal(400);

      const top = await created('/api/subflows', { flow_id: flowId, name: 'top' });
      const middle = await created('/api/subflows', { flow_id: flowId, name: 'middle', parent_subflow_id: top });
      const cycle = await app.api('PUT', `/api/subflows/${top}`, { parent_subflow_id: middle });
      expect(cycle.status).to.equal(400);
      expect(cycle.body.errors[0]).to.match(/^parent_subflow_id: /);
      const self = await app.api('PUT', `/api/subflows/${top}`, { parent_subflow_id: top });
      expect(self.status).to.equal(400);

      // A parent with active children is neither deleted nor moved away from them.
      expect((await app.api('DELETE', `/api/subflows/${top}`)).status).to.equal(409);
      expect((await app.api('PUT', `/api/subflows/${top}`, { flow_id: otherFlowId })).status).to.equal(409);
    });

    it('refuses a missing or inactive flow_id with 400 naming the field, and answers 404 for unknown ids', async () => {
      const answer = await app.api('POST', '/api/subflows', { flow_id: 999999, name: 'x' });
      expect(answer.status).to.equal(400);
      expect(answer.body.errors).to.deep.equal(['flow_id: no active flow with id 999999']);
      expect((await app.api('GET', '/api/flows/999999/subflows')).status).to.equal(404);
      expect((await app.api('GET', '/api/subflows/999999')).status).to.equal(404);
      expect((await app.api('PUT', '/api/subflows/999999', { name: 'x' })).status).to.equal(404);
      expect((await app.api('DELETE', '/api/subflows/999999')).status).to.equal(404);
    });

    it('answers 400 naming each bad field, keyword limits included', async () => {
      const answer = await app.api('POST', '/api/subflows', {
        flow_id: flowId,
        name: 'x',
        trigger_keywords: Array.from({ length: 51 }, (_, i) => `k${i}`),
        order_index: 'first',
      });
      expect(answer.status).to.equal(400);
      expect(answer.body.errors).to.have.members([
        'trigger_keywords: must hold at most 50 keywords',
        'order_index: must be a whole number',
      ]);
      const long = await app.api('POST', '/api/subflows', { flow_id: flowId, name: 'x', trigger_keywords: ['ok', 'k'.repeat(101), ''] });
      expect(long.body.errors).to.have.members([
        'trigger_keywords.1: must be at most 100 characters',
        'trigger_keywords.2: must not be empty',
      ]);
      const notList = await app.api('POST', '/api/subflows', { flow_id: flowId, name: 'x', trigger_keywords: 'menu' });
      expect(notList.body.errors).to.deep.equal(['trigger_keywords: must be a list of keywords']);
    });
  });

  describe('flow messages', () => {
    let subflowId: number;
    before(async () => {
      const templateId = await created('/api/flow-templates', { name: 'Messages' });
      const flowId = await created('/api/flows', { template_id: templateId, name: 'main' });
      subflowId = await created('/api/subflows', { flow_id: flowId, name: 'main' });
    });

    it('creates with defaults, lists active in order, reads, updates and deletes', async () => {
      const second = await created('/api/flow-messages', { subflow_id: subflowId, message_text: 'Segunda', order_index: 2 });
      const first = await created('/api/flow-messages', {
        subflow_id: subflowId,
        message_text: 'Envie o projeto, {{contact_name}}',
        message_type: 'document',
        order_index: 1,
        wait_for_response: false,
        wait_for_file: true,
        expected_file_types: ['PDF', 'dwg'],
        delay_seconds: 3,
        save_response_as: 'projeto',
      });
      const tie = await created('/api/flow-messages', { subflow_id: subflowId, message_text: 'Empate', order_index: 2 });

      const list = await app.api('GET', `/api/subflows/${subflowId}/messages`);
      expect(list.status).to.equal(200);
      expect(list.body.map((row: any) => row.id)).to.deep.equal([first, second, tie]);
      expect(list.body[0]).to.deep.include({
        subflow_id: subflowId,
        message_type: 'document',
        wait_for_response: false,
        wait_for_file: true,
        expected_file_types: ['pdf', 'dwg'],
        delay_seconds: 3,
        save_response_as: 'projeto',
      });
      expect(list.body[1]).to.deep.include({
        message_type: 'text',
        wait_for_response: true,
        wait_for_file: false,
        expected_file_types: [],
        delay_seconds: 0,
        save_response_as: null,
      });

      const update = await app.api('PUT', `/api/flow-messages/${second}`, {
        subflow_id: subflowId,
        message_text: 'Segunda (editada)',
        wait_for_response: false,
        save_response_as: null,
      });
      expect(update.status).to.equal(200);
      expect(update.body).to.deep.equal({ status: 'updated' });
      expect((await app.api('GET', `/api/flow-messages/${second}`)).body).to.include({
        message_text: 'Segunda (editada)',
        wait_for_response: false,
      });
      const log = await activity('flow_message.updated');
      expect(log).to.deep.include({ actor: 'admin', details: { id: second } });
      expect(log.before.message_text).to.equal('Segunda');
      expect(log.after.message_text).to.equal('Segunda (editada)');

      expect((await app.api('DELETE', `/api/flow-messages/${tie}`)).body).to.deep.equal({ status: 'deleted' });
      expect((await app.api('GET', `/api/subflows/${subflowId}/messages`)).body.map((row: any) => row.id)).to.deep.equal([
        first,
        second,
      ]);
      expect((await app.api('GET', `/api/flow-messages/${tie}`)).status).to.equal(404);
    });

    it('answers 400 naming each bad field, limits included', async () => {
      const answer = await app.api('POST', '/api/flow-messages', {
        subflow_id: subflowId,
        message_text: 'x'.repeat(4097),
        message_type: 'Not A Type',
        wait_for_file: 'true',
        expected_file_types: Array.from({ length: 21 }, () => 'pdf'),
        delay_seconds: 86_401,
        save_response_as: 'has space',
      });
      expect(answer.status).to.equal(400);
      expect(answer.body.errors).to.have.members([
        'message_text: must be at most 4096 characters',
        'message_type: must be a type name such as text, image or document',
        'wait_for_file: must be true or false',
        'expected_file_types: must hold at most 20 file types',
        'delay_seconds: must be at most 86400',
        'save_response_as: must be a variable name (letters, digits, _; at most 64)',
      ]);
      const negative = await app.api('POST', '/api/flow-messages', { subflow_id: subflowId, message_text: ' ', delay_seconds: -1 });
      expect(negative.body.errors).to.have.members(['message_text: must not be empty', 'delay_seconds: must be at least 0']);
      const missing = await app.api('POST', '/api/flow-messages', {});
      expect(missing.body.errors).to.have.members(['subflow_id: required', 'message_text: required']);
      const put = await app.api('PUT', '/api/flow-messages/1', { delay_seconds: 1.5 });
      expect(put.status).to.equal(400);
      expect(put.body.errors).to.deep.equal(['delay_seconds: must be a whole number']);
    });

    it('refuses a missing or inactive subflow_id with 400 naming the field, and answers 404 for unknown ids', async () => {
      const answer = await app.api('POST', '/api/flow-messages', { subflow_id: 999999, message_text: 'x' });
      expect(answer.status).to.equal(400);
      expect(answer.body.errors).to.deep.equal(['subflow_id: no active subflow with id 999999']);
      const message = await created('/api/flow-messages', { subflow_id: subflowId, message_text: 'x' });
      const move = await app.api('PUT', `/api/flow-messages/${message}`, { subflow_id: 999999 });
      expect(move.status).to.equal(400);
      expect(move.body.errors[0]).to.match(/^subflow_id: /);
      expect((await app.api('GET', '/api/subflows/999999/messages')).status).to.equal(404);
      expect((await app.api('GET', '/api/flow-messages/999999')).status).to.equal(404);
      expect((await app.api('PUT', '/api/flow-messages/999999', { message_text: 'x' })).status).to.equal(404);
      expect((await app.api('DELETE', '/api/flow-messages/999999')).status).to.equal(404);
    });
  });
});
