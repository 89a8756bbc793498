import type { EffectContext, EffectKind } from './effect-registry.js';
import type { StepWrites } from './step-writes.js';

/**
 * When a timer set in this step starts counting: after the step's last reply is due (the contact
 * cannot answer a prompt before it arrives), and never before the step itself.
 */
export function silenceStartsAt(context: EffectContext, writes: StepWrites): number {
  let start = context.now ?? Date.now();
  for (const row of writes.outbox) {
    if (row.conversation === context.conversation) start = Math.max(start, row.dueAt.getTime());
  }
  return start;
}

/** Drops the timers of this step's conversation still in the write set (not yet stored). */
function dropUnwritten(writes: StepWrites, context: EffectContext, sendId: string | null): void {
  for (let i = writes.timers.length - 1; i >= 0; i -= 1) {
    const row = writes.timers[i];
    if (row?.conversation === context.conversation && row.kind === 'machine' && (sendId === null || row.sendId === sendId)) {
      writes.timers.splice(i, 1);
    }
  }
}

export function cancelTimers(writes: StepWrites, context: EffectContext, sendId: string | null): void {
  dropUnwritten(writes, context, sendId);
  if (context.conversation.id !== 0) writes.timerCancels.push({ conversation: context.conversation, sendId });
}

const timerRow = 'conversation_timers (status pending, due_at)';

export const timerEffects: { timer: EffectKind<'timer'>; timer_cancelled: EffectKind<'timer_cancelled'> } = {
  timer: {
    row: timerRow,
    executor: 'src/timers/timer-stage.ts: claims due rows under the contact lock and feeds their event through the step path',
    retry: 'a failing timer step is retried with backoff (attempts, last_error on the row); it fires at most once',
    failures: 'the row keeps attempts and last_error while it is retried; no listing route yet (see ADR 0007)',
    collect(effect, context, writes) {
      // A timer set again in the same step (re-entering a state) replaces the earlier one.
      dropUnwritten(writes, context, effect.sendId);
      writes.timers.push({
        conversation: context.conversation,
        contactId: context.contact.id,
        kind: 'machine',
        sendId: effect.sendId,
        event: { type: effect.event.type },
        dueAt: new Date(silenceStartsAt(context, writes) + effect.delayMs),
      });
    },
  },
  timer_cancelled: {
    row: timerRow + ": status 'cancelled'",
    executor: 'none: the row update is the whole effect',
    retry: 'written with the step, in its transaction',
    failures: 'none of its own',
    collect(effect, context, writes) {
      cancelTimers(writes, context, effect.sendId);
    },
  },
};
