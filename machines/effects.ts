import type { FlowAction } from './actions.js';
import type { FileInput } from './events.js';

export type SendReason = 'flow' | 'reprompt' | 'wrong_file_type' | 'reminder' | 'close';

export type Effect =
  | {
      kind: 'send';
      reason: SendReason;
      messageId: number;
      subflowId: number;
      text: string;
      /** the message's own delay for reason 'flow'; 0 otherwise */
      delaySeconds: number;
    }
  | { kind: 'file_received'; messageId: number; subflowId: number; file: FileInput; fileType: string }
  | { kind: 'variable_saved'; name: string; value: string }
  | { kind: 'keyword_matched'; subflowId: number; keyword: string }
  | { kind: 'completed' }
  // SPEC §10 (machines/timers.ts): a delayed event the runtime must feed back after `delayMs`
  // (xstate's `after`), a pending one to drop (`xstate.cancel`), the hand-off to a human, and a
  // conversation closed after silence.
  | { kind: 'timer'; sendId: string; event: { type: string }; delayMs: number }
  | { kind: 'timer_cancelled'; sendId: string }
  | { kind: 'handoff'; messageId: number; subflowId: number }
  | { kind: 'closed' }
  /** SPEC §8: one action of a message, its templates filled in; its result comes back as ACTION_RESULT. */
  | { kind: 'action_requested'; messageId: number; subflowId: number; index: number; action: FlowAction };
