import {
  FlowCompileError,
  pendingActionOf,
  resumeWithActionResult,
  SnapshotRestoreError,
  startConversation,
  stepConversation,
  type BusinessHours,
  type Contact,
  type StepResult,
} from '../../machines/index.js';
import { actionResultEventOf } from '../actions/action-results.js';
import { collectEffect, collectStepEffects, type StepRecord } from '../effects/effect-registry.js';
import type { MaskOptions } from '../inspection/inspection-frames.js';
import type { ConversationRef } from '../effects/step-writes.js';
import type { FlowVersion } from '../flows/flow-versions.js';
import type { Logger } from '../shared/logger.js';
import { buildInputs } from './conversation-inputs.js';
import { createReplyClock } from './reply-clock.js';
import type { BatchWrites, ContactState, ConversationChange, InboxRow } from './step-repository.js';

/** What a batch's contacts share: the clock, the settings of the moment, the flow versions. */
export interface StepEnvironment {
  readonly now: number;
  readonly cooldownMs: number;
  readonly timeoutMs: number;
  /** A conversation's pinned version. */
  versionOf(versionId: number): Promise<FlowVersion>;
  /** The version new conversations start on; throws StepBlockedError when there is none that runs. */
  defaultVersion(): Promise<FlowVersion>;
  readonly log: Logger;
  /** SPEC §10: BUSINESS_HOURS (null: always open) and HANDOFF_RESUME_MINUTES in ms. */
  readonly businessHours?: BusinessHours | null;
  readonly handoffResumeMs?: number;
  /** Open when someone watches conversations live (src/inspection); null: nothing is collected for it. */
  readonly inspection: MaskOptions | null;
}

export type ContactStepOutcome =
  /** A newer input arrived after the claim: the contact waits for its own debounce window. */
  | { readonly kind: 'not_due' }
  | { readonly kind: 'processed'; readonly inputs: number; readonly replies: number }
  /** A human agent has the conversation: the inputs are kept in its history, unanswered. */
  | { readonly kind: 'paused'; readonly inputs: number };

/** No flow that can run (none is the default, or it does not compile): the inputs wait. */
export class StepBlockedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'StepBlockedError';
  }
}

export function blockedReason(error: unknown): string {
  if (error instanceof FlowCompileError) return `flow cannot be compiled: ${error.problems.join('; ')}`;
  if (!(error instanceof Error)) return String(error);
  // knex prefixes a database error's message with the whole statement: keep PostgreSQL's words.
  const fromDatabase = 'code' in error && typeof error.code === 'string';
  return fromDatabase ? error.message.slice(error.message.lastIndexOf(' - ') + 3) : error.message;
}

interface Running {
  readonly change: ConversationChange;
  readonly version: FlowVersion;
  snapshot: unknown;
}

/**
 * One contact's step: every due input, in order, through the conversation's machine; everything
 * it leaves behind goes into `writes`. Throws when the contact cannot be answered now; the caller
 * then discards `writes` and the inputs stay in the inbox for a retry.
 */
export async function stepContact(state: ContactState, env: StepEnvironment, writes: BatchWrites): Promise<ContactStepOutcome> {
  const { inbox, contactId } = state;
  const results = state.actionResults ?? [];
  const inputsDue = inbox.length > 0 && !inbox.some((row) => Date.parse(row.due_at) > env.now);
  if (!inputsDue && results.length === 0) return { kind: 'not_due' };
  const contact = contactOf(contactId, [...results, ...inbox]);
  const details = {
    contactName: contact.name || null,
    contactNumber: contact.number || null,
    ticketId: contact.ticketId,
  };
  const existing = state.conversation;

  // Paused before the timeout check: only the agent (resume, close, reset) ends their hold.
  if (existing?.bot_paused_at) {
    const ref = { id: existing.id };
    writes.conversations.push({ ref, progress: null, ...details, endReason: null, touched: true });
    for (const row of inbox) writes.processed.push({ rowId: row.id, conversation: ref });
    return { kind: 'paused', inputs: inbox.length };
  }

  // SPEC §8: outcomes first; they are fed only to the conversation that asked (others are dropped).
  writes.actionRunsFed.push(...results.map((result) => result.id));
  // An action's outcome is no new input: it supersedes nothing (a delayed chain before it still goes).
  const clock = createReplyClock(env.now, env.cooldownMs, supersedePending(state, env, writes, inputsDue));
  const repliesBefore = writes.outbox.length;
  let running: Running | null = null;
  if (existing) {
    const ref = { id: existing.id };
    if (env.now - Date.parse(existing.last_activity_at) > env.timeoutMs) {
      writes.conversations.push({ ref, progress: null, contactName: null, contactNumber: null, ticketId: null, endReason: 'timeout', touched: false });
      writes.activity.push({ conversation: ref, contactId, action: 'conversation.timeout', details: null });
    } else {
      const change: ConversationChange = { ref, progress: null, ...details, endReason: null, touched: true };
      writes.conversations.push(change);
      running = { change, version: await loadVersion(() => env.versionOf(existing.flow_version_id)), snapshot: existing.conversation_state };
    }
  }

  const startNew = async (input: ReturnType<typeof buildInputs>[number]): Promise<[Running, StepResult]> => {
    const version = await loadVersion(() => env.defaultVersion());
    const step = startConversation(version.flow, contact, input.input);
    const ref: ConversationRef = { id: 0 };
    const change: ConversationChange = {
      ref,
      start: { contactId, flowId: version.flowId, flowVersionId: version.versionId },
      progress: null,
      ...details,
      endReason: null,
      touched: true,
    };
    writes.conversations.push(change);
    writes.activity.push({
      conversation: ref,
      contactId,
      action: 'conversation.started',
      details: { flow_id: version.flowId, flow_version_id: version.versionId },
    });
    return [{ change, version, snapshot: null }, step];
  };

  /** Records one step of `current` (its effects, its new snapshot); true when it completed. */
  const recordStep = (current: Running, step: StepResult, input: StepRecord['input'], inputRowId: number, started: boolean): boolean => {
    clock.beginStep();
    const context = {
      conversation: current.change.ref,
      contact,
      inputRowId,
      replyClock: clock,
      now: env.now,
      handoffResumeMs: env.handoffResumeMs,
      inspection: env.inspection,
    };
    for (const effect of step.effects) collectEffect(effect, context, writes);
    const { flowId, flow } = current.version;
    collectStepEffects({ input, snapshot: step.snapshot, flowId, machineConfig: flow.config, started }, context, writes);
    current.change.progress = {
      state: step.snapshot,
      subflowId: step.position?.subflowId ?? null,
      messageId: step.position?.messageId ?? null,
      variables: step.variables,
    };
    current.snapshot = step.snapshot;
    // The contact's next input starts a new conversation (SPEC §2 rule 5).
    if (step.done) current.change.endReason = 'completed';
    return step.done;
  };

  const waitsOnActions = () => running !== null && pendingActionOf((running.snapshot as { value?: unknown } | null)?.value) !== null;
  if (running !== null) {
    const current: Running = running;
    for (const result of results) {
      if (result.conversation_id === null || Number(result.conversation_id) !== current.change.ref.id) continue;
      // Input-like: the step's time and business hours, for guards on the states it enters.
      const event = { ...actionResultEventOf(result), at: env.now, cooldownMs: env.cooldownMs, businessHours: env.businessHours ?? null };
      const step = resumeWithActionResult(current.version.flow, current.snapshot, event);
      if (recordStep(current, step, event, 0, false)) {
        running = null;
        break;
      }
    }
  }

  // Inputs that arrive while a conversation waits on its actions stay in the inbox, in order.
  const acceptedAt = new Map(inbox.map((row) => [row.id, Date.parse(row.created_at)]));
  for (const built of inputsDue ? buildInputs(inbox, env.now, env.cooldownMs) : []) {
    if (waitsOnActions()) break;
    const item = env.businessHours ? { ...built, input: { ...built.input, businessHours: env.businessHours } } : built;
    let step: StepResult;
    let started = false;
    if (running === null) {
      [running, step] = await startNew(item);
      started = true;
    } else {
      try {
        step = stepConversation(running.version.flow, running.snapshot, item.input, contact);
      } catch (error) {
        if (!(error instanceof SnapshotRestoreError)) throw error;
        // Pinned versions make this unexpected; a fresh conversation beats a contact left unanswered.
        env.log.error({ contactId, conversationId: running.change.ref.id, err: error.message }, 'conversation snapshot unusable; starting over');
        running.change.endReason = 'restore_failed';
        [running, step] = await startNew(item);
        started = true;
      }
    }
    const current: Running = running;
    const done = recordStep(current, step, item.input, item.fileRowId ?? item.rowIds[0] ?? 0, started);
    for (const rowId of item.rowIds) writes.processed.push({ rowId, conversation: current.change.ref, acceptedAt: acceptedAt.get(rowId) });
    if (done) running = null;
  }
  return { kind: 'processed', inputs: inbox.length, replies: writes.outbox.length - repliesBefore };
}

/**
 * ADR 0004: a new input never waits behind an earlier step's delayed replies for longer than the
 * cooldown. Replies not yet in flight and due after now + cooldown are cancelled; the rest go
 * first. Returns when the last reply that stays went, or will go, out.
 */
function supersedePending(state: ContactState, env: StepEnvironment, writes: BatchWrites, cancel = true): number | undefined {
  const horizon = env.now + env.cooldownMs;
  let lastDue = state.lastSentAt ? new Date(state.lastSentAt).getTime() : undefined;
  for (const reply of state.pending) {
    const due = Date.parse(reply.due_at);
    if (cancel && !reply.in_flight && due > horizon) {
      writes.cancelled.push(reply.id);
      continue;
    }
    lastDue = lastDue === undefined ? due : Math.max(lastDue, due);
  }
  return lastDue;
}

async function loadVersion(load: () => Promise<FlowVersion>): Promise<FlowVersion> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof StepBlockedError) throw error;
    throw new StepBlockedError(blockedReason(error));
  }
}

/** The newest name, number and ticket GOSAC gave us: tickets change, replies go to the current one. */
function contactOf(
  contactId: number,
  rows: ReadonlyArray<Pick<InboxRow, 'contact_name' | 'contact_number' | 'ticket_id'>>,
): Contact & { ticketId: number | null } {
  let name = '';
  let number = '';
  let ticketId: number | null = null;
  for (const row of rows) {
    if (row.contact_name) name = row.contact_name;
    if (row.contact_number) number = row.contact_number;
    if (row.ticket_id !== null) ticketId = Number(row.ticket_id);
  }
  return { id: contactId, name, number, ticketId };
}
