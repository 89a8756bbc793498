import { expect } from 'chai';
import { actionNames, compileFlow, FlowCompileError, guardNames, startConversation, stepConversation } from '../../machines/index.js';
import type { FlowDefinition } from '../../machines/index.js';
import { initialTransition, transition } from 'xstate';
import { createConversationMachine } from '../../machines/conversation-machine.js';
import { askFile, contact, flowOf, msg, say, sub, text } from './helpers.js';

function compileProblems(definition: FlowDefinition): string[] {
  try {
    compileFlow(definition);
  } catch (error) {
    if (error instanceof FlowCompileError) return error.problems;
    throw error;
  }
  return [];
}

/** Every `{ type }` found under the given keys of the config. */
function referencedTypes(node: unknown, key: 'guard' | 'actions' | 'entry', inside = false): string[] {
  if (typeof node === 'string') return inside ? [node] : [];
  if (Array.isArray(node)) return node.flatMap((item) => referencedTypes(item, key, inside));
  if (node === null || typeof node !== 'object') return [];
  const record = node as Record<string, unknown>;
  if (inside && typeof record['type'] === 'string') return [record['type']];
  return Object.entries(record).flatMap(([name, value]) => referencedTypes(value, key, name === key));
}

describe('compileFlow', () => {
  const sample = flowOf(
    sub(1, [say(1, 'oi {{contact_name}}'), msg(2, 'menu')], { triggerKeywords: ['menu'] }),
    sub(2, [msg(3, 'nome?', { saveResponseAs: 'nome' }), askFile(4, 'pdf?', ['pdf'], { saveResponseAs: 'f' })], {
      parentSubflowId: 1,
      triggerKeywords: ['1'],
    }),
  );

  it('produces a plain JSON config', () => {
    const { config } = compileFlow(sample);
    expect(JSON.parse(JSON.stringify(config))).to.deep.equal(config);
    expect(config).to.include({ id: 'flow_1', initial: 'start' });
    expect(Object.keys(config['states'] as object)).to.deep.equal(['start', 'sf_1', 'sf_2', 'completed']);
  });

  it('only references guards and actions from the catalogue', () => {
    const { config } = compileFlow(sample);
    const guards = referencedTypes(config, 'guard');
    const actions = [...referencedTypes(config, 'actions'), ...referencedTypes(config, 'entry')];
    expect(guards).to.include.members(['keywordSelects', 'noKeywordMatch', 'shouldReprompt', 'fileAccepted', 'fileRejected']);
    expect(actions).to.include.members(['sendFlowMessage', 'storeResponse', 'recordFileReceived', 'announceCompleted']);
    expect(guards.filter((name) => !(guardNames as readonly string[]).includes(name))).to.deep.equal([]);
    expect(actions.filter((name) => !(actionNames as readonly string[]).includes(name))).to.deep.equal([]);
  });

  it('puts keyword transitions once on the root, not on every message', () => {
    const { config } = compileFlow(sample);
    const keywordGuards = referencedTypes(config, 'guard').filter((name) => name === 'keywordSelects');
    expect(keywordGuards).to.have.length(2);
    expect((config['on'] as { USER_INPUT: unknown[] }).USER_INPUT).to.have.length(2);
  });

  it('refuses a flow where no subflow has messages', () => {
    expect(compileProblems(flowOf())).to.deep.equal(['no subflow has messages']);
    expect(compileProblems(flowOf(sub(1, []), sub(2, [])))).to.deep.equal(['no subflow has messages']);
    expect(() => compileFlow(flowOf())).to.throw(FlowCompileError, /no subflow has messages/);
  });

  it('refuses a subflow that is its own parent with only non-waiting messages', () => {
    const problems = compileProblems(flowOf(sub(1, [say(1, 'a'), say(2, 'b')], { parentSubflowId: 1 })));
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/loop: subflow 1 message 1 -> subflow 1 message 2 -> subflow 1 message 1/);
  });

  it('refuses a loop of non-waiting messages through parents', () => {
    const definition = flowOf(
      sub(1, [msg(1, 'menu')]),
      sub(2, [msg(20, 'pergunta'), say(21, 'volta para B')], { parentSubflowId: 3 }),
      sub(3, [say(30, 'B1'), say(31, 'B2')], { parentSubflowId: 2 }),
    );
    // A starts with a waiting message, so the 21 -> 30 -> 31 -> 20 chain stops at 20: fine.
    expect(compileProblems(definition)).to.deep.equal([]);
    const looping = flowOf(
      sub(1, [msg(1, 'menu')]),
      sub(2, [say(20, 'A1'), say(21, 'A2')], { parentSubflowId: 3 }),
      sub(3, [say(30, 'B1')], { parentSubflowId: 2 }),
    );
    expect(compileProblems(looping)).to.have.length(1);
  });

  it('accepts loops that contain a waiting message, and unknown parents', () => {
    expect(compileProblems(flowOf(sub(1, [say(1, 'a'), msg(2, 'b')], { parentSubflowId: 1 })))).to.deep.equal([]);
    expect(compileProblems(flowOf(sub(1, [say(1, 'a')], { parentSubflowId: 42 })))).to.deep.equal([]);
  });

  it('refuses duplicate ids, which would make states ambiguous', () => {
    expect(compileProblems(flowOf(sub(1, [msg(1, 'a')]), sub(2, [msg(1, 'b')])))).to.deep.equal([
      'message id 1 is used more than once',
    ]);
  });

  it('sets a finite maxIterations as a backstop against eventless loops', () => {
    const { machine } = compileFlow(sample);
    expect(Number.isFinite(machine.options.maxIterations)).to.equal(true);
  });

  it('the maxIterations backstop really stops an eventless loop (xstate 5.33)', () => {
    const looping = createConversationMachine(
      {
        id: 'loop',
        initial: 'start',
        options: { maxIterations: 20 },
        states: { start: { on: { USER_INPUT: '#a' } }, a: { id: 'a', always: '#b' }, b: { id: 'b', always: '#a' } },
      },
      () => null,
    );
    const [initial] = initialTransition(looping, { contact });
    expect(() => transition(looping, initial, text('oi'))).to.throw(/Infinite loop detected/);
  });

  it('compiles and steps a 1,000-message flow quickly', function () {
    this.timeout(5_000);
    const subflows = Array.from({ length: 100 }, (_, s) =>
      sub(
        s + 1,
        Array.from({ length: 10 }, (_, m) => {
          const id = s * 10 + m + 1;
          return m === 9 ? msg(id, `menu ${s}`) : m % 3 === 0 ? msg(id, `pergunta ${id}`, { saveResponseAs: `v${id}` }) : say(id, `info ${id}`);
        }),
        { triggerKeywords: [`opcao ${s + 1}`, `${s + 1}`], parentSubflowId: s === 0 ? null : 1 },
      ),
    );
    const startedAt = performance.now();
    const flow = compileFlow(flowOf(...subflows));
    const compileMs = performance.now() - startedAt;
    let result = startConversation(flow, contact, text('oi'));
    expect(result.position).to.deep.equal({ subflowId: 1, messageId: 1 });
    result = stepConversation(flow, result.snapshot, text('opção 57'));
    expect(result.effects[0]).to.deep.equal({ kind: 'keyword_matched', subflowId: 57, keyword: 'opcao 57' });
    for (const answer of ['a', 'b', 'c']) result = stepConversation(flow, result.snapshot, text(answer));
    expect(result.position).to.deep.equal({ subflowId: 57, messageId: 570 });
    expect(result.variables).to.deep.equal({ v561: 'a', v564: 'b', v567: 'c' });
    expect(compileMs).to.be.below(2_000);
  });
});
