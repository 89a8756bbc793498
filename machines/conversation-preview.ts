import type { CompiledFlow } from './compile.js';
import { resumeWithActionResult, startConversation, stepConversation, type StepResult } from './conversation-step.js';
import type { ActionResultEvent } from './actions.js';
import { resultVariableOf } from './actions.js';
import type { Effect, SendReason } from './effects.js';
import type { Contact, UserInput } from './events.js';

export interface PreviewStep {
  /** What the bot sends in answer to this input, in order. */
  replies: Array<{ text: string; reason: SendReason; messageId: number; subflowId: number; delaySeconds: number }>;
  /** True when this input started a (new) conversation. */
  started: boolean;
  /** True when the conversation completed with this input. */
  completed: boolean;
  position: StepResult['position'];
  variables: Record<string, string>;
  /** SPEC §8: actions the bot would run, in order; the preview runs none and takes each as done. */
  actions: Array<{ type: string; messageId: number; index: number; resultVariable: string | null }>;
}

/** What the preview feeds back for an action it does not run: success, with a visible stand-in. */
function simulatedResult(effect: Extract<Effect, { kind: 'action_requested' }>): ActionResultEvent {
  return { type: 'ACTION_RESULT', messageId: effect.messageId, index: effect.index, ok: true, value: `[${effect.action.type}]`, error: '' };
}

const sent = (effects: readonly Effect[]) =>
  effects.flatMap((effect) =>
    effect.kind === 'send'
      ? [{ text: effect.text, reason: effect.reason, messageId: effect.messageId, subflowId: effect.subflowId, delaySeconds: effect.delaySeconds }]
      : [],
  );

/**
 * Runs inputs through a flow exactly as the runtime does (first input starts, later ones step,
 * the input after completion starts over), without a database, a clock or a send. Inputs carry
 * their own `at`/`cooldownMs`, so the caller decides whether re-prompts are throttled.
 */
export function previewConversation(flow: CompiledFlow, contact: Contact, inputs: readonly UserInput[]): PreviewStep[] {
  let snapshot: unknown = null;
  return inputs.map((input) => {
    const started = snapshot === null;
    const step = withActionsDone(flow, started ? startConversation(flow, contact, input) : stepConversation(flow, snapshot, input));
    snapshot = step.done ? null : step.snapshot;
    return { replies: sent(step.effects), started, completed: step.done, position: step.position, variables: step.variables, actions: previewActionsOf(step.effects) };
  });
}

/**
 * SPEC §8 in previews: each action's result comes back as the runtime's would (a success with a
 * stand-in value), until the conversation waits on the contact. The step's effects are all of them.
 */
export function withActionsDone(flow: CompiledFlow, first: StepResult): StepResult {
  let step = first;
  const effects = [...first.effects];
  for (let guard = 0; guard < 1000; guard += 1) {
    const requested = step.effects.find((effect) => effect.kind === 'action_requested');
    if (!requested || step.done) break;
    step = resumeWithActionResult(flow, step.snapshot, simulatedResult(requested));
    effects.push(...step.effects);
  }
  return { ...step, effects };
}

export function previewActionsOf(effects: readonly Effect[]): PreviewStep['actions'] {
  return effects.flatMap((effect) =>
    effect.kind === 'action_requested'
      ? [{ type: effect.action.type, messageId: effect.messageId, index: effect.index, resultVariable: resultVariableOf(effect.action) }]
      : [],
  );
}
