import { fireTimer, SnapshotRestoreError, type StepResult } from '../../machines/index.js';
import { collectEffect, type EffectContext } from '../effects/effect-registry.js';
import { blockedReason, type StepEnvironment } from '../conversations/contact-step.js';
import { createReplyClock } from '../conversations/reply-clock.js';
import type { BatchWrites, ContactState, ConversationChange } from '../conversations/step-repository.js';
import type { DueTimerRow, TimerSettlement } from './timer-repository.js';

/** What one contact's due timers leave behind, besides the step writes. */
export interface TimerStepResult {
  readonly settled: TimerSettlement[];
  /** Hand-offs whose agent went quiet: the conversation ends, the next message starts over. */
  readonly holdsEnded: number[];
  readonly fired: number;
}

/**
 * Feeds one contact's due timers, oldest first, through the same path an input takes: restore the
 * pinned version's snapshot, pure `transition()`, every effect through the effect registry into the
 * batch's write set. Runs under the contact's step lock. A timer is cancelled instead when its
 * conversation ended or is paused, or when the contact wrote before it came due (the input wins).
 */
export async function stepDueTimers(
  state: ContactState,
  timers: readonly DueTimerRow[],
  env: StepEnvironment,
  writes: BatchWrites,
): Promise<TimerStepResult> {
  const settled: TimerSettlement[] = [];
  const holdsEnded: number[] = [];
  let fired = 0;
  const conversation = state.conversation;
  const lastDue = [state.lastSentAt?.getTime(), ...state.pending.map((reply) => Date.parse(reply.due_at))]
    .filter((value): value is number => value !== undefined && Number.isFinite(value))
    .reduce<number | undefined>((max, value) => (max === undefined ? value : Math.max(max, value)), undefined);
  const clock = createReplyClock(env.now, env.cooldownMs, lastDue);
  let change: ConversationChange | null = null;
  let snapshot: unknown = conversation?.conversation_state ?? null;
  let ended = false;

  for (const timer of timers) {
    const cancel = (outcome: string) => settled.push({ id: timer.id, status: 'cancelled', outcome });
    if (!conversation || conversation.id !== timer.conversation_id || !timer.conversation_active || ended) {
      cancel('conversation ended');
      continue;
    }
    if (timer.kind === 'handoff_resume') {
      if (!conversation.bot_paused_at) {
        cancel('not paused any more');
        continue;
      }
      holdsEnded.push(conversation.id);
      settled.push({ id: timer.id, status: 'fired', outcome: 'hand-off ended: agent silent' });
      ended = true;
      continue;
    }
    if (conversation.bot_paused_at) {
      cancel('conversation paused');
      continue;
    }
    if (timer.input_first) {
      cancel('the contact wrote first');
      continue;
    }

    const version = await env.versionOf(conversation.flow_version_id);
    const contact = { id: state.contactId, name: timer.contact_name ?? '', number: timer.contact_number ?? '' };
    let step: StepResult;
    try {
      step = fireTimer(version.flow, snapshot, {
        type: timer.event.type,
        at: env.now,
        cooldownMs: env.cooldownMs,
        businessHours: env.businessHours ?? null,
      });
    } catch (error) {
      if (!(error instanceof SnapshotRestoreError)) throw error;
      cancel(`snapshot unusable: ${blockedReason(error)}`);
      continue;
    }
    change ??= { ref: { id: conversation.id }, progress: null, contactName: null, contactNumber: null, ticketId: null, endReason: null, touched: false };
    clock.beginStep();
    const context: EffectContext = {
      conversation: change.ref,
      contact: { ...contact, ticketId: timer.ticket_id },
      inputRowId: 0,
      replyClock: clock,
      now: env.now,
      handoffResumeMs: env.handoffResumeMs,
      inspection: null,
    };
    for (const effect of step.effects) collectEffect(effect, context, writes);
    change.progress = {
      state: step.snapshot,
      subflowId: step.position?.subflowId ?? null,
      messageId: step.position?.messageId ?? null,
      variables: step.variables,
    };
    snapshot = step.snapshot;
    fired += 1;
    const closed = step.effects.some((effect) => effect.kind === 'closed');
    settled.push({ id: timer.id, status: 'fired', outcome: step.effects.length === 0 ? 'fired: no transition' : 'fired' });
    if (step.done) {
      change.endReason = closed ? 'inactivity' : 'completed';
      ended = true;
    }
  }
  if (change) writes.conversations.push(change);
  return { settled, holdsEnded, fired };
}
