import { resultVariableOf, type FlowAction } from './actions.js';
import type { MessageDefinition } from './flow-definition.js';
import { actionStateKey, messageStateKey } from './state-keys.js';

// SPEC §8 in the compiled machine: a message with actions is entered through one state per action
// (`act_<message>_<index>`). Each state's entry requests its action (an effect the shell runs
// durably) and waits for the matching ACTION_RESULT event, the durable form of an invoked
// promise; the result goes into the action's variable and the next action, or the message
// itself, follows. So an action's result is there for the next action, the message's own text
// and every later one.

export function actionsOf(message: MessageDefinition): readonly FlowAction[] {
  return message.actions ?? [];
}

/** The state a transition into `message` targets: its first action, or the message itself. */
export function entryStateKey(message: MessageDefinition): string {
  return actionsOf(message).length > 0 ? actionStateKey(message.id, 0) : messageStateKey(message.id);
}

/** The action states of one message (none when it has no actions). */
export function actionStates(subflowId: number, message: MessageDefinition): Record<string, unknown> {
  const states: Record<string, unknown> = {};
  const actions = actionsOf(message);
  actions.forEach((action, index) => {
    const key = actionStateKey(message.id, index);
    const next = index + 1 < actions.length ? actionStateKey(message.id, index + 1) : messageStateKey(message.id);
    states[key] = {
      id: key,
      entry: [
        // A message's actions start with a clean {{action_error}}.
        ...(index === 0 ? [{ type: 'clearActionError' }] : []),
        { type: 'requestAction', params: { messageId: message.id, subflowId, index, action } },
      ],
      on: {
        ACTION_RESULT: {
          guard: { type: 'actionResultFor', params: { messageId: message.id, index } },
          target: `#${next}`,
          actions: [{ type: 'storeActionResult', params: { saveResultAs: resultVariableOf(action) } }],
        },
      },
    };
  });
  return states;
}
