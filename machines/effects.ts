import type { FileInput } from './events.js';

export type SendReason = 'flow' | 'reprompt' | 'wrong_file_type';

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
  | { kind: 'completed' };
