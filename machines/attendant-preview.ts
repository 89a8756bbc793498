import type { CompiledFlow } from './compile.js';
import { previewActionsOf, withActionsDone, type PreviewStep } from './conversation-preview.js';
import { startConversation, stepConversation, type StepResult } from './conversation-step.js';
import type { Effect } from './effects.js';
import type { Contact, UserInput } from './events.js';
import { fireTimer } from './timers.js';

/** One preview item: an input, or the contact staying silent for `waitMs` (timers may fire). */
export type PreviewItem = { readonly input: UserInput } | { readonly waitMs: number };

const replies = (effects: readonly Effect[]) =>
  effects.flatMap((effect) =>
    effect.kind === 'send'
      ? [{ text: effect.text, reason: effect.reason, messageId: effect.messageId, subflowId: effect.subflowId, delaySeconds: effect.delaySeconds }]
      : [],
  );

/**
 * `previewConversation` with time (SPEC §10): the timers each step sets are kept in memory, the
 * way the runtime keeps them in conversation_timers, and a wait fires those that come due during
 * it, in order. Input times come from the inputs themselves (`at`), so a caller that starts the
 * clock at a given instant previews business hours too.
 */
export function previewWithTimers(flow: CompiledFlow, contact: Contact, items: readonly PreviewItem[]): Array<PreviewStep & { handedOff: boolean }> {
  let snapshot: unknown = null;
  let clock = 0;
  let position: StepResult['position'] = null;
  let variables: Record<string, string> = {};
  const timers = new Map<string, { due: number; type: string }>();
  const settle = (step: StepResult, at: number) => {
    for (const effect of step.effects) {
      if (effect.kind === 'timer_cancelled') timers.delete(effect.sendId);
      if (effect.kind === 'timer') timers.set(effect.sendId, { due: at + effect.delayMs, type: effect.event.type });
    }
    snapshot = step.done ? null : step.snapshot;
    position = step.position;
    variables = step.variables;
    if (step.done) timers.clear();
  };
  return items.map((item) => {
    if ('input' in item) {
      clock = item.input.at;
      const started = snapshot === null;
      const step = withActionsDone(flow, started ? startConversation(flow, contact, item.input) : stepConversation(flow, snapshot, item.input));
      settle(step, clock);
      return {
        replies: replies(step.effects),
        started,
        completed: step.done,
        position: step.position,
        variables: step.variables,
        handedOff: step.effects.some((effect) => effect.kind === 'handoff'),
        actions: previewActionsOf(step.effects),
      };
    }
    const until = clock + item.waitMs;
    const out: PreviewStep & { handedOff: boolean } = { replies: [], started: false, completed: false, position, variables, handedOff: false, actions: [] };
    let last: StepResult | null = null;
    for (;;) {
      const next = [...timers.entries()].sort((a, b) => a[1].due - b[1].due)[0];
      if (!next || next[1].due > until || snapshot === null) break;
      timers.delete(next[0]);
      clock = next[1].due;
      last = withActionsDone(flow, fireTimer(flow, snapshot, { type: next[1].type, at: clock, cooldownMs: 0 }));
      out.replies.push(...replies(last.effects));
      out.actions.push(...previewActionsOf(last.effects));
      out.completed ||= last.done;
      settle(last, clock);
    }
    clock = until;
    if (last) {
      out.position = last.position;
      out.variables = last.variables;
    }
    if (snapshot === null && last === null) out.position = null;
    return out;
  });
}
