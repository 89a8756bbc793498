import type { ConversationEvent, Effect } from '../../machines/index.js';
import type { MaskOptions } from '../inspection/inspection-frames.js';
import { actionRequestedEffect } from './action-effect.js';
import { activityEffects } from './activity-effects.js';
import { fileReceivedEffect } from './file-received-effect.js';
import { handoffEffects } from './handoff-effect.js';
import { timerEffects } from './timer-effect.js';
import { inspectionEffect } from './inspection-effect.js';
import { sendEffect } from './send-effect.js';
import type { ConversationRef, StepWrites } from './step-writes.js';

/** What a step knows when it turns one of its effects into rows. */
export interface EffectContext {
  readonly conversation: ConversationRef;
  readonly contact: { readonly id: number; readonly name: string; readonly number: string; readonly ticketId: number | null };
  /** The inbox row a file input came from, for received_files. */
  readonly inputRowId: number;
  /** Due time of the next reply (cooldown, each message's delay): one clock per contact and batch. */
  readonly replyClock: ReplyClock;
  /** epoch ms of the step (timers count from it); the wall clock when absent. */
  readonly now?: number;
  /** HANDOFF_RESUME_MINUTES in ms (SPEC §10); 240 minutes when absent. */
  readonly handoffResumeMs?: number;
  /** Open when someone watches conversations live (checked once per batch); null otherwise. */
  readonly inspection: MaskOptions | null;
}

export interface ReplyClock {
  /** The due time of a reply with `delayMs`; the first reply of a step waits out the cooldown. */
  nextDue(delayMs: number): Date;
}

/**
 * One kind of effect: where it is written, who carries it out, how it is retried and where its
 * failures are listed (docs/decisions/0005). `collect` only adds rows to the batch's write set:
 * nothing is written or sent until the whole step commits.
 */
export interface EffectKind<K extends Effect['kind']> {
  readonly row: string;
  readonly executor: string;
  readonly retry: string;
  readonly failures: string;
  collect(effect: Extract<Effect, { kind: K }>, context: EffectContext, writes: StepWrites): void;
}

/** Exhaustive: a new kind in machines/effects.ts does not compile until it has an entry here. */
export type EffectRegistry = { readonly [K in Effect['kind']]: EffectKind<K> };

export const effectRegistry: EffectRegistry = {
  send: sendEffect,
  file_received: fileReceivedEffect,
  action_requested: actionRequestedEffect,
  ...activityEffects,
  ...timerEffects,
  ...handoffEffects,
};

export function collectEffect(effect: Effect, context: EffectContext, writes: StepWrites): void {
  // The registry's mapped type pairs each kind with its own handler; TypeScript cannot follow
  // that through a union, hence the one cast.
  (effectRegistry[effect.kind] as EffectKind<Effect['kind']>).collect(effect as never, context, writes);
}

/** A step as a whole, whatever effects its machine returned: what step effect kinds read. */
export interface StepRecord {
  /** The user's input, or an action's outcome (SPEC §8). */
  readonly input: ConversationEvent;
  /** The persisted snapshot the step left. */
  readonly snapshot: unknown;
  readonly flowId: number;
  /** The pinned version's machine config. */
  readonly machineConfig: Record<string, unknown>;
  /** The conversation's first step (it began with this input). */
  readonly started: boolean;
}

/**
 * An effect every step has, not one the machine returns (DESIGN §11: "inspector event"). Declared
 * like the machine's kinds; `collect` runs once per step, adds to the write set, does no I/O.
 */
export interface StepEffectKind {
  readonly row: string;
  readonly executor: string;
  readonly retry: string;
  readonly failures: string;
  collect(step: StepRecord, context: EffectContext, writes: StepWrites): void;
}

export const stepEffectRegistry: { readonly inspection: StepEffectKind } = {
  inspection: inspectionEffect,
};

const stepEffectKinds = Object.values(stepEffectRegistry);

export function collectStepEffects(step: StepRecord, context: EffectContext, writes: StepWrites): void {
  for (const kind of stepEffectKinds) kind.collect(step, context, writes);
}
