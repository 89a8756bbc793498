import type { ConversationEvent } from '../../machines/index.js';

// What one batch of steps leaves behind, gathered in memory and written by one set-based
// statement (src/conversations/step-repository.ts). Conversations started in the batch have no
// id yet: rows refer to a ConversationRef whose id is filled in when the batch is written.

export interface ConversationRef {
  /** 0 until a new conversation's id is allocated by the batch's write. */
  id: number;
}

export interface OutboxRow {
  readonly conversation: ConversationRef;
  readonly contactId: number;
  readonly ticketId: number | null;
  readonly contactName: string | null;
  readonly contactNumber: string | null;
  readonly body: string;
  readonly flowMessageId: number;
  readonly reason: string;
  readonly dueAt: Date;
}

export interface ReceivedFileRow {
  readonly conversation: ConversationRef;
  readonly messageHistoryId: number;
  readonly contactId: number;
  readonly flowMessageId: number;
  readonly fileName: string;
  readonly fileType: string;
  readonly mimeType: string | null;
  readonly mediaUrl: string | null;
  readonly mediaPath: string | null;
}

export interface ActivityRow {
  readonly conversation: ConversationRef | null;
  readonly contactId: number;
  readonly action: string;
  readonly details: Record<string, unknown> | null;
}

/** SPEC §8: one action (or a received file's download) for the action executor (src/actions/). */
export interface ActionRunRow {
  readonly conversation: ConversationRef;
  readonly contactId: number;
  readonly ticketId: number | null;
  readonly contactName: string | null;
  readonly contactNumber: string | null;
  readonly flowMessageId: number;
  readonly index: number;
  readonly type: string;
  readonly action: Record<string, unknown>;
  /** False: the conversation waits for its result. True: nothing to feed back (a download). */
  readonly fed: boolean;
}

/** The action_runs row of one action of a step's conversation (an action, or a file download). */
export function actionRunOf(
  step: {
    readonly conversation: ConversationRef;
    readonly contact: { readonly id: number; readonly name: string; readonly number: string; readonly ticketId: number | null };
  },
  run: Pick<ActionRunRow, 'flowMessageId' | 'index' | 'type' | 'action' | 'fed'>,
): ActionRunRow {
  return {
    conversation: step.conversation,
    contactId: step.contact.id,
    ticketId: step.contact.ticketId,
    contactName: step.contact.name || null,
    contactNumber: step.contact.number || null,
    ...run,
  };
}

/** A durable timer (src/timers/, ADR 0007): its event is fed to the conversation when due. */
export interface TimerRow {
  readonly conversation: ConversationRef;
  readonly contactId: number;
  readonly kind: 'machine' | 'handoff_resume';
  /** xstate's id of the delayed event (`xstate.cancel` names it). */
  readonly sendId: string;
  readonly event: { readonly type: string };
  readonly dueAt: Date;
}

/** Pending timers of a conversation to drop: one by its send id, or every machine timer (null). */
export interface TimerCancel {
  readonly conversation: ConversationRef;
  readonly sendId: string | null;
}

/** One step as viewers see it (src/inspection): published after the batch commits, never written. */
export interface InspectedStep {
  readonly conversation: ConversationRef;
  readonly contactId: number;
  readonly flowId: number;
  /** The pinned version's machine config, on a conversation's first step only (its @xstate.actor). */
  readonly startedWith: Record<string, unknown> | null;
  readonly input: ConversationEvent;
  /** The persisted snapshot the step left. */
  readonly snapshot: unknown;
  readonly showText: boolean;
}

export interface StepWrites {
  readonly outbox: OutboxRow[];
  readonly receivedFiles: ReceivedFileRow[];
  readonly activity: ActivityRow[];
  readonly actionRuns: ActionRunRow[];
  /** action_runs whose outcome this step fed to its conversation (or discarded). */
  readonly actionRunsFed: number[];
  readonly timers: TimerRow[];
  readonly timerCancels: TimerCancel[];
  /** Conversations handed to a human (SPEC §10): paused when the step commits. */
  readonly handoffs: ConversationRef[];
  /** Empty unless someone is watching (the inspection gate was open when the batch began). */
  readonly inspection: InspectedStep[];
}

export function emptyStepWrites(): StepWrites {
  return { outbox: [], receivedFiles: [], activity: [], actionRuns: [], actionRunsFed: [], timers: [], timerCancels: [], handoffs: [], inspection: [] };
}

export function appendStepWrites(target: StepWrites, source: StepWrites): void {
  target.outbox.push(...source.outbox);
  target.receivedFiles.push(...source.receivedFiles);
  target.activity.push(...source.activity);
  target.actionRuns.push(...source.actionRuns);
  target.actionRunsFed.push(...source.actionRunsFed);
  target.timers.push(...source.timers);
  target.timerCancels.push(...source.timerCancels);
  target.handoffs.push(...source.handoffs);
  target.inspection.push(...source.inspection);
}
