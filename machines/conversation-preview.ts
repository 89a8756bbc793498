import type { CompiledFlow } from './compile.js';
import { startConversation, stepConversation, type StepResult } from './conversation-step.js';
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
    const step = started ? startConversation(flow, contact, input) : stepConversation(flow, snapshot, input);
    snapshot = step.done ? null : step.snapshot;
    return { replies: sent(step.effects), started, completed: step.done, position: step.position, variables: step.variables };
  });
}
