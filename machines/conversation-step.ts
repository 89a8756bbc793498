import { createActor, type AnyActorScope, type initialTransition, type transition as xstateTransition } from 'xstate';
import type { ActionResultEvent } from './actions.js';
import type { CompiledFlow } from './compile.js';
import { isEffectAction } from './conversation-machine.js';
import type { Effect } from './effects.js';
import type { Contact, UserInput } from './events.js';
import { parsePosition } from './state-keys.js';
import { timerEffectsOf } from './timers.js';

export type Position = { subflowId: number; messageId: number };

export type StepResult = {
  /** persisted xstate snapshot, plain JSON: store it as-is and hand it back to `stepConversation` */
  snapshot: unknown;
  /** in the order the bot must carry them out */
  effects: Effect[];
  done: boolean;
  position: Position | null;
  variables: Record<string, string>;
};

export class SnapshotRestoreError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Cannot restore conversation snapshot: ${reason}`, options);
    this.name = 'SnapshotRestoreError';
  }
}

type MachineSnapshot = ReturnType<typeof initialTransition<CompiledFlow['machine']>>[0];
type MachineAction = ReturnType<typeof xstateTransition<CompiledFlow['machine']>>[1][number];
type Machine = CompiledFlow['machine'];

// xstate's pure `transition()` and `initialTransition()` build a throwaway actor per call to get
// an actor scope, computing the machine's initial state each time (and restoring through
// `createActor` builds another): a third of a step's machine time (`npm run bench`, "one
// transition"). A step only needs the scope to collect the actions it resolves, and these
// machines spawn no child actors, so one inert scope per compiled machine serves every step;
// `actionExecutor` is set for the length of one synchronous call.
const scopes = new WeakMap<Machine, AnyActorScope>();
const ignore = () => {};

function scopeOf(machine: Machine): AnyActorScope {
  let scope = scopes.get(machine);
  if (!scope) {
    const self = createActor(machine);
    scope = { self, defer: ignore, id: '', logger: ignore, sessionId: '', stopChild: ignore, system: self.system, emit: ignore, actionExecutor: ignore };
    scopes.set(machine, scope);
  }
  return scope;
}

/** What xstate's `transition` / `initialTransition` answer, through the machine's own scope. */
function collecting<T>(machine: Machine, resolve: (scope: AnyActorScope) => T): [T, MachineAction[]] {
  const scope = scopeOf(machine);
  const actions: MachineAction[] = [];
  scope.actionExecutor = (action) => actions.push(action as MachineAction);
  try {
    return [resolve(scope), actions];
  } finally {
    scope.actionExecutor = ignore;
  }
}

function transition(machine: Machine, snapshot: MachineSnapshot, event: Parameters<Machine['transition']>[1]): [MachineSnapshot, MachineAction[]] {
  return collecting(machine, (scope) => machine.transition(snapshot, event, scope));
}

function toEffects(actions: readonly MachineAction[]): Effect[] {
  // Delayed events (`after`) and their cancellations become timer effects (machines/timers.ts).
  return actions.flatMap((action) =>
    isEffectAction(action.type) ? [action.params as unknown as Effect] : timerEffectsOf(action),
  );
}

function toResult(flow: CompiledFlow, snapshot: MachineSnapshot, actions: readonly MachineAction[]): StepResult {
  // xstate leaves `output: undefined` and friends in the object; the JSON pass makes it exactly what a store returns.
  const persisted: unknown = JSON.parse(JSON.stringify(flow.machine.getPersistedSnapshot(snapshot)));
  return {
    snapshot: persisted,
    effects: toEffects(actions),
    done: snapshot.status === 'done',
    position: parsePosition(snapshot.value),
    variables: { ...snapshot.context.variables },
  };
}

type StateNodeLike = { states: Record<string, StateNodeLike> };

/** xstate restores unknown state values without complaint and only fails on the next event, so check first. */
function isKnownStateValue(node: StateNodeLike, value: unknown): boolean {
  if (typeof value === 'string') return Object.hasOwn(node.states, value);
  if (value === null || typeof value !== 'object') return false;
  const entries = Object.entries(value);
  return (
    entries.length > 0 &&
    entries.every(
      ([key, child]) => Object.hasOwn(node.states, key) && isKnownStateValue(node.states[key] as StateNodeLike, child),
    )
  );
}

function restore(flow: CompiledFlow, persisted: unknown): MachineSnapshot {
  if (persisted === null || typeof persisted !== 'object' || !('value' in persisted) || !('context' in persisted)) {
    throw new SnapshotRestoreError('not a persisted machine snapshot');
  }
  if (!isKnownStateValue(flow.machine.root, persisted.value)) {
    throw new SnapshotRestoreError('its state does not exist in this flow (was the flow changed?)');
  }
  try {
    // What creating (not starting) an actor from it does, without building the actor.
    return flow.machine.restoreSnapshot(persisted as never, scopeOf(flow.machine));
  } catch (error) {
    throw new SnapshotRestoreError('it does not fit this flow (was the flow changed?)', { cause: error });
  }
}

function withContact(persisted: unknown, contact: Contact | undefined): unknown {
  if (!contact || persisted === null || typeof persisted !== 'object' || !('context' in persisted)) return persisted;
  const context = persisted.context as { contact?: Contact } | null;
  const known = context?.contact;
  if (!context || !known) return persisted;
  const name = contact.name || known.name;
  const number = contact.number || known.number;
  if (name === known.name && number === known.number) return persisted;
  return { ...persisted, context: { ...context, contact: { ...known, name, number } } };
}

/** Rule 1: the first input only wakes the bot up; it is neither keyword-checked nor saved. */
export function startConversation(flow: CompiledFlow, contact: Contact, firstInput: UserInput): StepResult {
  const [initial] = collecting(flow.machine, (scope) =>
    flow.machine.getInitialSnapshot(scope, { contact: { id: contact.id, name: contact.name, number: contact.number } }),
  );
  const [next, actions] = transition(flow.machine, initial, firstInput);
  return toResult(flow, next, actions);
}

/**
 * `contact`, when given with a name or number, replaces what the conversation knew: GOSAC may send
 * the name only on a later message, and `{{contact_name}}` must use the newest one.
 */
export function stepConversation(flow: CompiledFlow, persistedSnapshot: unknown, input: UserInput, contact?: Contact): StepResult {
  const snapshot = restore(flow, withContact(persistedSnapshot, contact));
  if (snapshot.status !== 'active') return toResult(flow, snapshot, []);
  const [next, actions] = transition(flow.machine, snapshot, input);
  return toResult(flow, next, actions);
}

/**
 * SPEC §8: an action's outcome back into the conversation that waits on it (the durable form of an
 * invoked promise's done/error event). A result for an action the conversation no longer waits
 * on changes nothing.
 */
export function resumeWithActionResult(flow: CompiledFlow, persistedSnapshot: unknown, result: ActionResultEvent): StepResult {
  const snapshot = restore(flow, persistedSnapshot);
  if (snapshot.status !== 'active') return toResult(flow, snapshot, []);
  const [next, actions] = transition(flow.machine, snapshot, result);
  return toResult(flow, next, actions);
}

/** Where a persisted conversation rests, or null before the greeting and after completion. */
export function positionOf(persistedSnapshot: unknown): Position | null {
  if (persistedSnapshot === null || typeof persistedSnapshot !== 'object') return null;
  if (!('value' in persistedSnapshot)) return null;
  return parsePosition(persistedSnapshot.value);
}

export function isConversationDone(persistedSnapshot: unknown): boolean {
  return (
    persistedSnapshot !== null &&
    typeof persistedSnapshot === 'object' &&
    'status' in persistedSnapshot &&
    persistedSnapshot.status === 'done'
  );
}
