import { expect } from 'chai';
import type { CoreDeps } from '../../src/app-deps.js';
import { loadFlowDefinition } from '../../src/flows/flow-definition-loader.js';
import { canonicalJson, createFlowVersionStore } from '../../src/flows/flow-versions.js';
import { FlowCompileError } from '../../machines/index.js';
import { insertFlow, type InsertedFlow } from '../support/flow-builder.js';
import type { TestDatabase } from '../support/test-database.js';
import { buildTestDeps } from '../support/test-deps.js';

describe('flow versions', () => {
  let deps: CoreDeps & { testDb: TestDatabase };
  let flow: InsertedFlow;

  before(async () => {
    deps = await buildTestDeps();
    flow = await insertFlow(deps.db, [
      { name: 'A', keywords: ['a'], messages: [{ text: 'um', waitForResponse: false }, { text: 'dois' }] },
      { name: 'B', parent: 'A', messages: [{ text: 'três' }] },
    ]);
  });
  after(() => deps.testDb.drop());

  it('loads only active subflows and messages, in order', async () => {
    await deps.db('flow_messages').insert({ subflow_id: flow.subflowIds['A'], message_text: 'inativa', order_index: 9, is_active: false });
    const definition = await loadFlowDefinition(deps.db, flow.flowId);
    expect(definition!.subflows.map((subflow) => subflow.name)).to.deep.equal(['A', 'B']);
    expect(definition!.subflows[0]!.messages.map((message) => message.text)).to.deep.equal(['um', 'dois']);
    expect(definition!.subflows[1]!.parentSubflowId).to.equal(flow.subflowIds['A']);
    expect(definition!.subflows[0]!.triggerKeywords).to.deep.equal(['a']);
  });

  it('stores one version per distinct content and reuses it', async () => {
    const store = createFlowVersionStore(deps);
    const first = await store.forNewConversation();
    const again = await createFlowVersionStore(deps).forNewConversation();
    expect(again!.versionId).to.equal(first!.versionId);
    await deps.db('flow_messages').where({ id: flow.messageIds['B']![0] }).update({ message_text: 'três!' });
    const edited = await store.forNewConversation();
    expect(edited!.versionId).to.not.equal(first!.versionId);
    expect((await store.get(first!.versionId)).flow.definition.subflows[1]!.messages[0]!.text).to.equal('três');
    const [row] = await deps.db('flow_versions').where({ id: edited!.versionId });
    expect(row.content_hash).to.match(/^[0-9a-f]{64}$/);
    expect(row.machine_config).to.have.property('states');
  });

  it('refuses to version a flow that cannot run, without storing it', async () => {
    const before = await deps.db('flow_versions').count({ n: '*' }).first();
    // A message that waits for nothing, in a subflow that is its own parent: an endless chain.
    await deps.db('subflows').where({ id: flow.subflowIds['B'] }).update({ parent_subflow_id: flow.subflowIds['B'] });
    await deps.db('flow_messages').where({ id: flow.messageIds['B']![0] }).update({ wait_for_response: false });
    let failure: unknown;
    try {
      await createFlowVersionStore(deps).forNewConversation();
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(FlowCompileError);
    expect(await deps.db('flow_versions').count({ n: '*' }).first()).to.deep.equal(before);
  });

  it('hashes content independently of key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).to.equal(
      '{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}',
    );
  });
});
