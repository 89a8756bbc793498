// GET /ready says when contacts would go unanswered because of the default flow, and gives the
// number of inputs stuck in the inbox as information.
import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { insertFlow, insertInbound } from '../support/flow-builder.js';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

describe('GET /ready and the default flow', function () {
  this.timeout(30_000);
  let app: HttpTestApp;
  before(async () => {
    // The web role: the test app runs no job runner, so only the checks under test can fail.
    app = await startHttpTestApp({ env: { ROLE: 'web' } });
  });
  after(() => app.close());

  const ready = () => app.raw('GET', '/ready');

  it('says degraded without an active default flow, ready once one compiles, degraded naming the problem when it stops compiling, ready after the fix, and stays in rotation', async () => {
    const none = await ready();
    expect(none.status).to.equal(200);
    expect(none.body).to.deep.equal({
      status: 'degraded',
      checks: { database: 'ok', default_flow: 'failing' },
      warnings: ['default_flow: no active default flow'],
      stuck_inputs: 0,
    });

    const flow = await insertFlow(app.deps.db, [{ name: 'Início', messages: [{ text: 'Olá!' }] }]);
    await eventually(async () => {
      const answer = await ready();
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.equal({ status: 'ready', checks: { database: 'ok', default_flow: 'ok' }, stuck_inputs: 0 });
    }, 5_000);

    // Broken behind the admin API's back (the API refuses such a write): its only message goes.
    const messageId = flow.messageIds['Início']![0]!;
    await app.deps.db('flow_messages').where({ id: messageId }).update({ is_active: false });
    await eventually(async () => {
      const answer = await ready();
      expect(answer.status).to.equal(200);
      expect(answer.body.status).to.equal('degraded');
      expect(answer.body.checks).to.deep.equal({ database: 'ok', default_flow: 'failing' });
      expect(answer.body.warnings).to.deep.equal([`default_flow: default flow ${flow.flowId} cannot compile: no subflow has messages`]);
    }, 5_000);

    await app.deps.db('flow_messages').where({ id: messageId }).update({ is_active: true });
    await eventually(async () => {
      expect((await ready()).body.status).to.equal('ready');
    }, 5_000);
  });

  it('counts stuck inputs without failing on them', async () => {
    const stuck = await insertInbound(app.deps.db, { contactId: 71_001, body: 'oi' });
    await app.deps.db('message_history').where({ id: stuck }).update({ attempts: 3, last_error: 'step failed: boom' });
    await insertInbound(app.deps.db, { contactId: 71_002, body: 'just arrived' });
    await eventually(async () => {
      const answer = await ready();
      expect(answer.status).to.equal(200);
      expect(answer.body.stuck_inputs).to.equal(1);
    }, 5_000);
  });
});
