import { expect } from 'chai';
import fc from 'fast-check';
import { initialTransition, transition } from 'xstate';
import type { FileInput, FlowDefinition, MessageDefinition, SubflowDefinition, UserInput } from '../../machines/index.js';
import { compileFlow, FlowCompileError, startConversation, stepConversation } from '../../machines/index.js';
import { isEffectAction } from '../../machines/conversation-machine.js';
import { contact } from './helpers.js';

const keywordPool = ['1', '2', 'menu', 'sim', 'orçamento', 'quero orcamento', 'Ajuda', '', '  '];
const textPool = ['oi', '1', '2', '10', 'menu', 'Menu!', 'assim', 'quero orçamento agora', 'ajudá', 'Joana', ''];
const files: FileInput[] = [
  { name: 'projeto.PDF', mimeType: null, url: null, path: null },
  { name: 'planta.dwg', mimeType: 'image/vnd.dwg', url: null, path: null },
  { name: 'foto.jpg', mimeType: 'image/jpeg', url: null, path: null },
  { name: '', mimeType: 'application/pdf', url: 'https://cdn.test/m/123', path: null },
];

const messageShape = fc.record({
  text: fc.constantFrom('Olá {{contact_name}}', 'nome?', 'arquivo?', 'oi {{ nome }} {{x}}', 'menu'),
  orderIndex: fc.integer({ min: 0, max: 3 }),
  waitForResponse: fc.boolean(),
  waitForFile: fc.boolean(),
  expectedFileTypes: fc.subarray(['pdf', 'dwg', 'JPG']),
  delaySeconds: fc.constantFrom(0, 1, 5),
  saveResponseAs: fc.constantFrom(null, 'nome', 'x', ''),
});

const subflowShape = fc.record({
  orderIndex: fc.integer({ min: 0, max: 3 }),
  parent: fc.constantFrom<number | null>(null, 0, 1, 2, 3, 99),
  triggerKeywords: fc.subarray(keywordPool, { maxLength: 3 }),
  messages: fc.array(messageShape, { maxLength: 4 }),
});

const definitionArb: fc.Arbitrary<FlowDefinition> = fc
  .array(subflowShape, { minLength: 1, maxLength: 5 })
  .map((shapes) => {
    let nextMessageId = 100;
    const subflows: SubflowDefinition[] = shapes.map((shape, index) => ({
      id: index + 1,
      name: `sf${index + 1}`,
      orderIndex: shape.orderIndex,
      parentSubflowId: shape.parent === null ? null : shape.parent + 1,
      triggerKeywords: shape.triggerKeywords,
      messages: shape.messages.map(
        (message): MessageDefinition => ({ id: nextMessageId++, type: 'text', ...message }),
      ),
    }));
    return { flowId: 3, name: 'random', subflows };
  });

const compiles = (definition: FlowDefinition) => {
  try {
    compileFlow(definition);
    return true;
  } catch (error) {
    if (error instanceof FlowCompileError) return false;
    throw error;
  }
};

const inputsArb: fc.Arbitrary<UserInput[]> = fc.array(
  fc.record({
    text: fc.oneof(fc.constantFrom(...textPool), fc.string({ maxLength: 12 })),
    file: fc.option(fc.constantFrom(...files), { freq: 3 }),
    gap: fc.constantFrom(0, 10, 500, 5_000),
    cooldownMs: fc.constantFrom(0, 1_000, 60_000),
  }),
  { minLength: 1, maxLength: 10 },
).map((raw) => {
  let at = 1_700_000_000_000;
  return raw.map(({ text, file, gap, cooldownMs }) => {
    at += gap;
    return { type: 'USER_INPUT' as const, text, file, at, cooldownMs };
  });
});

const jsonRoundTrip = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('persistence (property)', () => {
  it('every compiled flow restores from any of its persisted snapshots', () => {
    fc.assert(
      fc.property(definitionArb.filter(compiles), inputsArb, (definition, inputs) => {
        const flow = compileFlow(definition);
        // A second compilation stands in for a process restart between two messages.
        const restarted = compileFlow(jsonRoundTrip(definition));
        const [first, ...rest] = inputs as [UserInput, ...UserInput[]];

        const [initial] = initialTransition(flow.machine, { contact });
        let [live, actions] = transition(flow.machine, initial, first);
        let stored = startConversation(flow, contact, first);
        expect(stored.effects).to.deep.equal(actions.filter((a) => isEffectAction(a.type)).map((a) => a.params));

        for (const input of rest) {
          expect(jsonRoundTrip(stored.snapshot)).to.deep.equal(stored.snapshot);
          expect(stored.snapshot).to.deep.equal(jsonRoundTrip(flow.machine.getPersistedSnapshot(live)));

          const viaStore = stepConversation(restarted, jsonRoundTrip(stored.snapshot), input);
          const wasDone = live.status === 'done';
          if (!wasDone) [live, actions] = transition(flow.machine, live, input);
          const liveEffects = wasDone ? [] : actions.filter((a) => isEffectAction(a.type)).map((a) => a.params);

          expect(viaStore.effects).to.deep.equal(liveEffects);
          expect(viaStore.snapshot).to.deep.equal(jsonRoundTrip(flow.machine.getPersistedSnapshot(live)));
          expect(viaStore.done).to.equal(live.status === 'done');
          stored = viaStore;
        }
      }),
      { numRuns: 300 },
    );
  });
});
