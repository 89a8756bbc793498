import type { ConversationMachine } from './conversation-machine.js';
import { createConversationMachine } from './conversation-machine.js';
import { applyAttendantConstructs, applyBusinessHours, businessHoursProblems, closedState, type AttendantContext } from './attendant.js';
import { uncataloguedNames } from './catalogue-check.js';
import type { FlowDefinition, MessageDefinition, SubflowDefinition } from './flow-definition.js';
import { createKeywordMatcher } from './keywords.js';
import { actionsOf, actionStates, entryStateKey } from './actions-compile.js';
import { closedStateKey, completedStateKey, messageStateKey, startStateKey, subflowStateKey } from './state-keys.js';

export class FlowCompileError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Flow cannot be compiled: ${problems.join('; ')}`);
    this.name = 'FlowCompileError';
    this.problems = problems;
  }
}

export type CompiledFlow = {
  definition: FlowDefinition;
  machine: ConversationMachine;
  /** Plain JSON machine config (no functions); paste into Stately's visualizer to inspect a flow. */
  config: Record<string, unknown>;
};

type Ordered = { orderIndex: number; id: number };
const byOrder = (a: Ordered, b: Ordered) => a.orderIndex - b.orderIndex || a.id - b.id;

type Subflow = Omit<SubflowDefinition, 'messages'> & { messages: MessageDefinition[] };

type NextStep = { kind: 'message'; subflow: Subflow; message: MessageDefinition; index: number } | { kind: 'completed' };

const ref = (stateKey: string) => `#${stateKey}`;

function waitsFor(message: MessageDefinition): 'file' | 'response' | 'nothing' {
  if (message.waitForFile) return 'file';
  return message.waitForResponse ? 'response' : 'nothing';
}

/** Passes straight on: waits for nothing and has no actions (whose results are waited for). */
function isSilent(message: MessageDefinition): boolean {
  return waitsFor(message) === 'nothing' && actionsOf(message).length === 0;
}

function savedName(message: MessageDefinition): string | null {
  const name = message.saveResponseAs?.trim() ?? '';
  return name === '' ? null : name;
}

class FlowGraph {
  readonly subflows: Subflow[];
  private readonly byId: Map<number, Subflow>;

  constructor(definition: FlowDefinition) {
    // Subflows without messages cannot be entered; dropping them makes them count as "no parent".
    this.subflows = [...definition.subflows]
      .sort(byOrder)
      .map((subflow) => ({ ...subflow, messages: [...subflow.messages].sort(byOrder) }))
      .filter((subflow) => subflow.messages.length > 0);
    this.byId = new Map(this.subflows.map((subflow) => [subflow.id, subflow]));
  }

  /** Rule 5: past the last message go back to the parent's first message, else complete. */
  afterSubflow(subflow: Subflow): NextStep {
    const parent = subflow.parentSubflowId === null ? undefined : this.byId.get(subflow.parentSubflowId);
    const first = parent?.messages[0];
    return parent && first ? { kind: 'message', subflow: parent, message: first, index: 0 } : { kind: 'completed' };
  }

  /** A subflow that can be entered (it has messages). */
  find(id: number | null): Subflow | undefined {
    return id === null ? undefined : this.byId.get(id);
  }

  after(subflow: Subflow, index: number): NextStep {
    const next = subflow.messages[index + 1];
    return next ? { kind: 'message', subflow, message: next, index: index + 1 } : this.afterSubflow(subflow);
  }
}

function findProblems(definition: FlowDefinition, graph: FlowGraph): string[] {
  const problems: string[] = [];
  if (graph.subflows.length === 0) problems.push('no subflow has messages');

  const seenSubflows = new Set<number>();
  const seenMessages = new Set<number>();
  for (const subflow of definition.subflows) {
    if (seenSubflows.has(subflow.id)) problems.push(`subflow id ${subflow.id} is used more than once`);
    seenSubflows.add(subflow.id);
    for (const message of subflow.messages) {
      if (seenMessages.has(message.id)) problems.push(`message id ${message.id} is used more than once`);
      seenMessages.add(message.id);
    }
  }
  if (problems.length > 0) return problems;
  return [...findSilentCycles(graph), ...businessHoursProblems(attendantContext(definition, graph), graph.subflows)];
}

/**
 * Messages that wait for nothing become eventless transitions; a cycle of them would spin forever
 * inside one xstate macrostep. Each such message has exactly one successor, so a walk with
 * "on current path" / "finished" marks finds every cycle in linear time.
 */
function findSilentCycles(graph: FlowGraph): string[] {
  const problems: string[] = [];
  const finished = new Set<number>();
  const describe = (step: { subflow: Subflow; message: MessageDefinition }) =>
    `subflow ${step.subflow.id} message ${step.message.id}`;

  for (const subflow of graph.subflows) {
    subflow.messages.forEach((message, index) => {
      if (finished.has(message.id) || !isSilent(message)) return;
      const path: Array<{ subflow: Subflow; message: MessageDefinition; index: number }> = [];
      const onPath = new Map<number, number>();
      let current: { subflow: Subflow; message: MessageDefinition; index: number } | null = { subflow, message, index };
      while (current && !finished.has(current.message.id) && isSilent(current.message)) {
        const seenAt = onPath.get(current.message.id);
        if (seenAt !== undefined) {
          const cycle = [...path.slice(seenAt), current].map(describe);
          problems.push(`messages that wait for nothing form a loop: ${cycle.join(' -> ')}`);
          break;
        }
        onPath.set(current.message.id, path.length);
        path.push(current);
        const next = graph.after(current.subflow, current.index);
        current = next.kind === 'message' ? next : null;
      }
      for (const step of path) finished.add(step.message.id);
    });
  }
  return problems;
}

function targetOf(step: NextStep): string {
  if (step.kind === 'completed') return ref(completedStateKey);
  // Entering the subflow node (not the message) so a jump back to the current subflow re-enters it.
  return step.index === 0
    ? ref(subflowStateKey(step.subflow.id))
    : ref(entryStateKey(step.message));
}

function messageState(graph: FlowGraph, subflow: Subflow, message: MessageDefinition, index: number) {
  const ids = { messageId: message.id, subflowId: subflow.id };
  const next = targetOf(graph.after(subflow, index));
  const wait = waitsFor(message);
  const entry: unknown[] = [
    { type: 'sendFlowMessage', params: { ...ids, text: message.text, delaySeconds: message.delaySeconds } },
  ];
  const state: Record<string, unknown> = { id: messageStateKey(message.id), entry };
  if (wait === 'nothing') {
    state['always'] = { target: next };
    return state;
  }
  // A new position starts a fresh re-prompt cooldown.
  entry.push({ type: 'clearReprompt' });
  const name = savedName(message);
  const reprompt = {
    guard: 'shouldReprompt',
    actions: [{ type: 'reprompt', params: { ...ids, text: message.text } }, { type: 'markReprompt' }],
  };
  const announce = name === null ? [] : [{ type: 'announceVariableSaved', params: { name } }];

  if (wait === 'file') {
    const fileTypes = { expectedFileTypes: [...message.expectedFileTypes] };
    state['on'] = {
      USER_INPUT: [
        {
          guard: { type: 'fileAccepted', params: fileTypes },
          target: next,
          actions: [
            { type: 'recordFileReceived', params: ids },
            ...(name === null ? [] : [{ type: 'storeFileName', params: { name } }]),
            ...announce,
          ],
        },
        {
          guard: { type: 'fileRejected', params: fileTypes },
          actions: [{ type: 'explainWrongFileType', params: { ...ids, ...fileTypes } }],
        },
        reprompt,
      ],
    };
    return state;
  }

  const isMenu = index === subflow.messages.length - 1;
  // Handlers here run before the root's keyword transitions (deepest state first), so each one is
  // guarded to yield whenever a keyword matches; the root then picks the keyword's subflow.
  state['on'] = {
    USER_INPUT: isMenu
      ? [reprompt]
      : [
          {
            guard: 'noKeywordMatch',
            target: next,
            actions: name === null ? [] : [{ type: 'storeResponse', params: { name } }, ...announce],
          },
        ],
  };
  return state;
}

function attendantContext(definition: FlowDefinition, graph: FlowGraph): AttendantContext {
  return { definition, subflow: (id) => graph.find(id) };
}

function buildConfig(definition: FlowDefinition, graph: FlowGraph): Record<string, unknown> {
  const attendant = attendantContext(definition, graph);
  const messageCount = graph.subflows.reduce(
    (total, subflow) => total + subflow.messages.reduce((sum, message) => sum + 1 + actionsOf(message).length, 0),
    0,
  );
  const states: Record<string, unknown> = {};
  const first = graph.subflows[0];
  const greeting = first ? ref(subflowStateKey(first.id)) : ref(completedStateKey);
  states[startStateKey] = { on: { USER_INPUT: { target: greeting } } };
  for (const subflow of graph.subflows) {
    const messageStates: Record<string, unknown> = {};
    subflow.messages.forEach((message, index) => {
      Object.assign(messageStates, actionStates(subflow.id, message));
      const state = messageState(graph, subflow, message, index);
      applyAttendantConstructs(attendant, state, subflow, message, index);
      messageStates[messageStateKey(message.id)] = state;
    });
    const firstMessage = subflow.messages[0];
    const node: Record<string, unknown> = {
      id: subflowStateKey(subflow.id),
      initial: firstMessage ? entryStateKey(firstMessage) : messageStateKey(0),
      states: messageStates,
    };
    applyBusinessHours(attendant, node, subflow);
    states[subflowStateKey(subflow.id)] = node;
  }
  states[completedStateKey] = { id: completedStateKey, type: 'final', entry: [{ type: 'announceCompleted' }] };
  if (definition.closeAfterMinutes) states[closedStateKey] = closedState();

  const keywordTransitions = graph.subflows
    .filter((subflow) => subflow.triggerKeywords.some((keyword) => keyword.trim() !== ''))
    .map((subflow) => ({
      guard: { type: 'keywordSelects', params: { subflowId: subflow.id } },
      target: ref(subflowStateKey(subflow.id)),
      actions: [{ type: 'announceKeywordMatch', params: { subflowId: subflow.id } }],
    }));

  return {
    id: `flow_${definition.flowId}`,
    initial: startStateKey,
    // The cycle check already rules out endless eventless chains; this is the backstop. One macrostep
    // visits each message at most once, plus the event transition and the settling check.
    options: { maxIterations: messageCount + graph.subflows.filter((subflow) => subflow.businessHoursOnly).length + 8 },
    on: { USER_INPUT: keywordTransitions },
    states,
  };
}

export function compileFlow(definition: FlowDefinition): CompiledFlow {
  const graph = new FlowGraph(definition);
  const problems = findProblems(definition, graph);
  if (problems.length > 0) throw new FlowCompileError(problems);
  const config = buildConfig(definition, graph);
  const unknown = uncataloguedNames(config);
  if (unknown.length > 0) throw new FlowCompileError(unknown.map((name) => `the config uses ${name}, which machines/catalogue.ts does not list`));
  const matcher = createKeywordMatcher(graph.subflows);
  return { definition, machine: createConversationMachine(config, matcher), config };
}
