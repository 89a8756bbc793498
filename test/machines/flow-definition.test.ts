import { expect } from 'chai';
import { flowDefinitionSchema } from '../../machines/index.js';

describe('flowDefinitionSchema', () => {
  it('fills message defaults (wait for a response, no file, no delay)', () => {
    const parsed = flowDefinitionSchema.parse({
      flowId: 1,
      name: 'f',
      subflows: [{ id: 1, name: 's', messages: [{ id: 2, text: 'oi' }] }],
    });
    expect(parsed.subflows[0]).to.deep.include({ orderIndex: 0, parentSubflowId: null, triggerKeywords: [] });
    expect(parsed.subflows[0]?.messages[0]).to.deep.equal({
      id: 2,
      text: 'oi',
      type: 'text',
      orderIndex: 0,
      waitForResponse: true,
      waitForFile: false,
      expectedFileTypes: [],
      delaySeconds: 0,
      saveResponseAs: null,
    });
  });

  it('rejects malformed rows', () => {
    expect(flowDefinitionSchema.safeParse({ flowId: 1, name: 'f', subflows: [{ id: 'x', name: 's' }] }).success).to.equal(
      false,
    );
  });
});
