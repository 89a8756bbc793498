import type { FlowDefinition, MessageDefinition, SubflowDefinition } from './flow-definition.js';
import { closedStateKey, hoursCheckStateKey, messageStateKey, silenceStateKey, subflowStateKey } from './state-keys.js';

// SPEC §10 as machine constructs, added to the states compile.ts builds:
// - silence timers: a waiting message with a reminder, or in a flow that closes idle conversations,
//   gets a child state `silence` holding `after` transitions (reminder: targetless, once; close:
//   to the final `closed` state). Every input on the message re-enters `silence` (or leaves the
//   message), so xstate cancels the pending delayed events and schedules new ones: silence is
//   counted from the last input.
// - re-prompt limit: after `maxReprompts` re-prompts in a row, the next invalid input goes to the
//   fallback subflow.
// - business hours: a subflow marked `businessHoursOnly` is entered through a transient
//   `hours_check` state whose guard reads the input's time.
// - hand-off: the last message of a `handoff` subflow hands the conversation to a human (an
//   effect the runtime turns into a pause) and rests there.

type Subflow = Omit<SubflowDefinition, 'messages'> & { messages: MessageDefinition[] };
type Transition = Record<string, unknown>;

const ref = (stateKey: string) => `#${stateKey}`;

/** Minutes (fractions allowed) as the whole milliseconds of an `after` key; at least 1 ms. */
export function minutesToMs(minutes: number): number {
  return Math.max(1, Math.round(minutes * 60_000));
}

export interface AttendantContext {
  readonly definition: FlowDefinition;
  /** A subflow that can be entered (it has messages), by id. */
  readonly subflow: (id: number | null) => Subflow | undefined;
}

function isHandoffRest(subflow: Subflow, index: number): boolean {
  return subflow.handoff === true && index === subflow.messages.length - 1;
}

/** The `after` map of a waiting message, or null when it has no timer. */
export function silenceTimers(ctx: AttendantContext, subflow: Subflow, message: MessageDefinition, index: number): Record<string, unknown> | null {
  if (isHandoffRest(subflow, index)) return null;
  const ids = { messageId: message.id, subflowId: subflow.id };
  const closeMinutes = ctx.definition.closeAfterMinutes;
  const closeMs = closeMinutes ? minutesToMs(closeMinutes) : null;
  const reminderMs = message.reminderAfterMinutes ? minutesToMs(message.reminderAfterMinutes) : null;
  const after: Record<string, unknown> = {};
  // A reminder due when (or after) the conversation closes would never be seen.
  if (reminderMs !== null && (closeMs === null || reminderMs < closeMs)) {
    const text = message.reminderText?.trim() ? message.reminderText : message.text;
    after[String(reminderMs)] = { actions: [{ type: 'sendReminder', params: { ...ids, text } }] };
  }
  if (closeMs !== null) {
    const text = ctx.definition.closeText?.trim() ? ctx.definition.closeText : null;
    after[String(closeMs)] = {
      target: ref(closedStateKey),
      actions: text === null ? [] : [{ type: 'sendCloseText', params: { ...ids, text } }],
    };
  }
  return Object.keys(after).length > 0 ? after : null;
}

/**
 * Adds the silence timers, the re-prompt limit and the hand-off to a message state built by
 * compile.ts (`state.on.USER_INPUT` lists its own transitions; targetless ones keep the
 * conversation on the message).
 */
export function applyAttendantConstructs(
  ctx: AttendantContext,
  state: Record<string, unknown>,
  subflow: Subflow,
  message: MessageDefinition,
  index: number,
): void {
  const ids = { messageId: message.id, subflowId: subflow.id };
  const entry = state['entry'] as unknown[];
  if (isHandoffRest(subflow, index)) {
    entry.push({ type: 'handOff', params: ids });
    // The conversation rests here, paused, until the agent is done (SPEC §10).
    delete state['always'];
  }
  const on = state['on'] as { USER_INPUT?: Transition[] } | undefined;
  const transitions = on?.USER_INPUT;
  if (!transitions) return;

  const fallback = message.maxReprompts == null ? undefined : ctx.subflow(message.fallbackSubflowId ?? null);
  const timers = silenceTimers(ctx, subflow, message, index);
  const stays = transitions.filter((transition) => transition['target'] === undefined);

  if (fallback && message.maxReprompts != null && stays.length > 0) {
    entry.push({ type: 'resetRepromptCount' });
    for (const stay of stays) {
      const actions = (stay['actions'] as unknown[] | undefined) ?? [];
      stay['actions'] = [...actions, { type: 'countReprompt' }];
    }
    const limit: Transition = {
      guard: { type: 'repromptLimitReached', params: { max: message.maxReprompts } },
      target: ref(subflowStateKey(fallback.id)),
    };
    // After an accepted file (if any), before the first re-prompt or explanation.
    const firstStay = transitions.indexOf(stays[0] as Transition);
    transitions.splice(firstStay, 0, limit);
  }

  if (timers) {
    const silence = silenceStateKey;
    state['initial'] = silence;
    state['states'] = { [silence]: { after: timers } };
    for (const stay of stays) stay['target'] = `.${silence}`;
    // Any other input that keeps the conversation here (a re-prompt held back by the cooldown)
    // still restarts the silence; keywords are left to the root.
    transitions.push({ guard: 'noKeywordMatch', target: `.${silence}` });
  }
}

/**
 * The states of a subflow node: a `business_hours_only` subflow with an out-of-hours subflow is
 * entered through `hours_check`, which goes on to the first message or to the other subflow.
 */
export function applyBusinessHours(ctx: AttendantContext, node: Record<string, unknown>, subflow: Subflow): void {
  if (!subflow.businessHoursOnly) return;
  const other = ctx.subflow(subflow.outOfHoursSubflowId ?? null);
  const first = subflow.messages[0];
  if (!other || other.id === subflow.id || !first) return;
  const states = node['states'] as Record<string, unknown>;
  node['initial'] = hoursCheckStateKey;
  node['states'] = {
    [hoursCheckStateKey]: {
      always: [{ guard: 'outOfBusinessHours', target: ref(subflowStateKey(other.id)) }, { target: messageStateKey(first.id) }],
    },
    ...states,
  };
}

/** Out-of-hours subflows that send each other back and forth would never settle. */
export function businessHoursProblems(ctx: AttendantContext, subflows: readonly Subflow[]): string[] {
  const problems: string[] = [];
  for (const start of subflows) {
    const seen = new Set<number>();
    let at: Subflow | undefined = start;
    while (at?.businessHoursOnly) {
      if (seen.has(at.id)) {
        problems.push(`out-of-hours subflows form a loop starting at subflow ${start.id}`);
        break;
      }
      seen.add(at.id);
      const next = ctx.subflow(at.outOfHoursSubflowId ?? null);
      at = next && next.id !== at.id ? next : undefined;
    }
  }
  return problems;
}

/** The final state a silent conversation is closed into. */
export function closedState(): Record<string, unknown> {
  return { id: closedStateKey, type: 'final', entry: [{ type: 'announceClosed' }] };
}
