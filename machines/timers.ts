import type { CompiledFlow } from './compile.js';
import { stepConversation, type StepResult } from './conversation-step.js';
import type { Effect } from './effects.js';
import type { Contact, TimerEvent, UserInput } from './events.js';

// Durable timers, the machine's half (DESIGN §2, ADR 0007): xstate's pure `transition()` returns a
// delayed `after` event as an `xstate.raise` action with `params.delay`, and drops one with
// `xstate.cancel`; neither is in the persisted snapshot. Both become effects the runtime stores
// (src/timers/), and a timer that comes due is fed back as its event with `fireTimer`.

interface ActionLike {
  readonly type: string;
  readonly params?: unknown;
}

const AFTER_PREFIX = 'xstate.after.';

/** The timer effects of one xstate action (none for every other action). */
export function timerEffectsOf(action: ActionLike): Effect[] {
  const params = (action.params ?? {}) as { delay?: unknown; event?: { type?: unknown }; id?: unknown; sendId?: unknown };
  if (action.type === 'xstate.raise' && typeof params.delay === 'number' && typeof params.event?.type === 'string') {
    const sendId = typeof params.id === 'string' ? params.id : params.event.type;
    return [{ kind: 'timer', sendId, event: { type: params.event.type }, delayMs: params.delay }];
  }
  if (action.type === 'xstate.cancel' && typeof params.sendId === 'string') {
    return [{ kind: 'timer_cancelled', sendId: params.sendId }];
  }
  return [];
}

/** True for the type of a delayed `after` event (what `fireTimer` accepts). */
export function isAfterEvent(type: string): boolean {
  return type.startsWith(AFTER_PREFIX);
}

/**
 * Feeds a timer's event to the conversation. When the conversation no longer rests where the
 * timer was set (it moved on, or ended), xstate ignores the event: no effects, same snapshot.
 */
export function fireTimer(flow: CompiledFlow, persistedSnapshot: unknown, event: TimerEvent, contact?: Contact): StepResult {
  if (!isAfterEvent(event.type)) throw new Error(`not a timer event: ${event.type}`);
  // The machine's guards read the same fields from either event; keyword guards ignore this one.
  return stepConversation(flow, persistedSnapshot, event as unknown as UserInput, contact);
}
