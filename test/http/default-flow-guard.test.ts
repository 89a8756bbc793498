// Admin writes that would leave the active default flow unable to compile (every new contact
// would go unanswered) are refused with 400 and change nothing; the same writes on a draft that is
// not the default are accepted, and a flow that does not compile cannot become the default.
import { expect } from 'chai';
import { buildFlowThroughApi, type BuiltFlow } from '../support/admin-flow-builder.js';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

const NO_MESSAGES = 'no subflow has messages';

describe('admin API: writes that would break the default flow', () => {
  let app: HttpTestApp;
  let live: BuiltFlow;
  let elsewhere: BuiltFlow;
  const admin = { admin: (method: string, path: string, body?: unknown) => app.api(method, path, body) };

  before(async () => {
    app = await startHttpTestApp();
    live = await buildFlowThroughApi(admin, [{ name: 'Início', messages: [{ text: 'Olá!' }] }], { name: 'Live' });
    // Somewhere to move a message or subflow to.
    elsewhere = await buildFlowThroughApi(admin, [{ name: 'Outro', messages: [{ text: 'Outro' }] }], {
      name: 'Elsewhere',
      isDefault: false,
    });
  });
  after(() => app.close());

  /** The rows a refused write must leave as they were. */
  async function snapshot() {
    const db = app.deps.db;
    return {
      flows: await db('flows').orderBy('id').select('id', 'template_id', 'name', 'is_default', 'is_active', 'updated_at'),
      subflows: await db('subflows').orderBy('id').select('id', 'flow_id', 'parent_subflow_id', 'is_active', 'updated_at'),
      messages: await db('flow_messages').orderBy('id').select('id', 'subflow_id', 'is_active', 'updated_at'),
      activity: Number((await db('activity_logs').count({ n: '*' }).first())?.n),
    };
  }

  /** A template with a flow that is not the default, built like `live`. */
  const draft = () => buildFlowThroughApi(admin, [{ name: 'Início', messages: [{ text: 'Olá!' }] }], { name: 'Draft', isDefault: false });

  type Write = { name: string; request: (flow: BuiltFlow) => [method: string, path: string, body?: unknown] };
  const message = (flow: BuiltFlow) => flow.messageIds['Início']![0]!;
  const subflow = (flow: BuiltFlow) => flow.subflowIds['Início']!;
  const breakingWrites: Write[] = [
    { name: 'DELETE its last message', request: (flow) => ['DELETE', `/api/flow-messages/${message(flow)}`] },
    {
      name: 'PATCH its last message into another flow',
      request: (flow) => ['PATCH', `/api/flow-messages/${message(flow)}`, { subflow_id: elsewhere.subflowIds['Outro'] }],
    },
    {
      name: 'PUT its last message into another flow',
      request: (flow) => ['PUT', `/api/flow-messages/${message(flow)}`, { subflow_id: elsewhere.subflowIds['Outro'], message_text: 'Olá!' }],
    },
    { name: 'DELETE its only subflow', request: (flow) => ['DELETE', `/api/subflows/${subflow(flow)}`] },
    {
      name: 'PATCH its only subflow into another flow',
      request: (flow) => ['PATCH', `/api/subflows/${subflow(flow)}`, { flow_id: elsewhere.flowId }],
    },
    {
      name: 'PUT its only subflow into another flow',
      request: (flow) => ['PUT', `/api/subflows/${subflow(flow)}`, { flow_id: elsewhere.flowId, name: 'Início' }],
    },
  ];

  for (const write of breakingWrites) {
    it(`${write.name}: 400 naming the problem and nothing changed on the default flow; accepted on a draft`, async () => {
      const before = await snapshot();
      const [method, path, body] = write.request(live);
      const refused = await app.api(method, path, body);
      expect(refused.status, JSON.stringify(refused.body)).to.equal(400);
      expect(refused.body.errors).to.deep.equal([`default_flow: flow ${live.flowId} would not compile: ${NO_MESSAGES}`]);
      expect(await snapshot()).to.deep.equal(before);
      const validation = await app.api('GET', `/api/flows/${live.flowId}/validate`);
      expect(validation.body).to.include({ compiles: true });

      const other = await draft();
      const [draftMethod, draftPath, draftBody] = write.request(other);
      const accepted = await app.api(draftMethod, draftPath, draftBody);
      expect(accepted.status, JSON.stringify(accepted.body)).to.equal(200);
      const broken = await app.api('GET', `/api/flows/${other.flowId}/validate`);
      expect(broken.body).to.include({ compiles: false });
    });
  }

  it('refuses to make a flow that does not compile the default (PATCH, PUT, or created so), changing nothing', async () => {
    const empty = await draft();
    await app.api('DELETE', `/api/flow-messages/${message(empty)}`);
    const before = await snapshot();
    for (const method of ['PATCH', 'PUT']) {
      const refused = await app.api(method, `/api/flows/${empty.flowId}`, { is_default: true });
      expect(refused.status, method).to.equal(400);
      expect(refused.body.errors).to.deep.equal([`default_flow: flow ${empty.flowId} would not compile: ${NO_MESSAGES}`]);
    }
    const created = await app.api('POST', '/api/flows', { template_id: empty.templateId, name: 'New default', is_default: true });
    expect(created.status).to.equal(400);
    expect(created.body.errors[0]).to.match(new RegExp(`^default_flow: flow \\d+ would not compile: ${NO_MESSAGES}$`));
    expect(await snapshot()).to.deep.equal(before);
    expect(await app.deps.db('flows').where({ is_default: true, is_active: true }).pluck('id')).to.deep.equal([live.flowId]);
  });

  it('names the loop of a draft whose messages wait for nothing when it is made the default', async () => {
    const loop = await buildFlowThroughApi(
      admin,
      [
        { name: 'a', messages: [{ text: 'A', waitForResponse: false }] },
        { name: 'b', parent: 'a', messages: [{ text: 'B', waitForResponse: false }] },
      ],
      { name: 'Loop', isDefault: false },
    );
    // The API refuses a parent cycle; an older row or a hand edit may still hold one.
    await app.deps.db('subflows').where({ id: loop.subflowIds['a'] }).update({ parent_subflow_id: loop.subflowIds['b'] });
    const refused = await app.api('PATCH', `/api/flows/${loop.flowId}`, { is_default: true });
    expect(refused.status).to.equal(400);
    expect(refused.body.errors).to.have.length(1);
    expect(refused.body.errors[0]).to.match(new RegExp(`^default_flow: flow ${loop.flowId} would not compile: messages that wait for nothing form a loop: `));
    expect(await app.deps.db('flows').where({ id: loop.flowId }).first()).to.include({ is_default: false });
  });

  it('accepts making a flow that compiles the default, and taking the default away', async () => {
    const next = await draft();
    expect((await app.api('PATCH', `/api/flows/${next.flowId}`, { is_default: true })).status).to.equal(200);
    expect((await app.api('PATCH', `/api/flows/${live.flowId}`, { is_default: true })).status).to.equal(200);
    expect(await app.deps.db('flows').where({ is_default: true, is_active: true }).pluck('id')).to.deep.equal([live.flowId]);
    expect((await app.api('PATCH', `/api/flows/${live.flowId}`, { is_default: false })).status).to.equal(200);
    expect(await app.deps.db('flows').where({ is_default: true, is_active: true }).pluck('id')).to.deep.equal([]);
  });

  it('with no working default (a new install), lets a default flow be created empty and filled step by step', async () => {
    expect(await app.deps.db('flows').where({ is_default: true, is_active: true }).pluck('id')).to.deep.equal([]);
    const built = await buildFlowThroughApi(
      admin,
      [
        { name: 'Menu', messages: [{ text: 'Oi', waitForResponse: false }, { text: 'Menu' }] },
        { name: 'Um', keywords: ['1'], messages: [{ text: 'Um', waitForResponse: false }] },
      ],
      { name: 'Fresh' },
    );
    expect(await app.deps.db('flows').where({ is_default: true, is_active: true }).pluck('id')).to.deep.equal([built.flowId]);
    expect((await app.api('GET', `/api/flows/${built.flowId}/validate`)).body).to.include({ is_default: true, compiles: true });
    // Working now: breaking it again is refused.
    const last = await app.api('DELETE', `/api/subflows/${built.subflowIds['Menu']}`);
    expect(last.status).to.equal(200);
    const refused = await app.api('DELETE', `/api/subflows/${built.subflowIds['Um']}`);
    expect(refused.status).to.equal(400);
  });

  it('lets only one of two concurrent deletions take the last two messages of the default flow', async () => {
    for (let round = 0; round < 5; round += 1) {
      const two = await buildFlowThroughApi(admin, [{ name: 'Início', messages: [{ text: 'Um' }, { text: 'Dois' }] }], { name: `Two ${round}`, isDefault: false });
      expect((await app.api('PATCH', `/api/flows/${two.flowId}`, { is_default: true })).status).to.equal(200);
      const answers = await Promise.all(two.messageIds['Início']!.map((id) => app.api('DELETE', `/api/flow-messages/${id}`)));
      expect(answers.map((answer) => answer.status).sort(), `round ${round}`).to.deep.equal([200, 400]);
      expect(await app.deps.db('flow_messages').where({ subflow_id: two.subflowIds['Início'], is_active: true })).to.have.length(1);
    }
  });
});
