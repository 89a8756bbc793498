import { displayNameOf } from '../../machines/index.js';
import type { EffectKind } from './effect-registry.js';

/** A file the flow accepted: recorded with the inbound message it came in. */
export const fileReceivedEffect: EffectKind<'file_received'> = {
  row: 'received_files',
  executor: 'none: the row is the whole effect',
  retry: 'written with the step, in its transaction',
  failures: 'none of its own: a step that cannot be written is retried (GET /api/inbox?status=stuck)',
  collect(effect, context, writes) {
    writes.receivedFiles.push({
      conversation: context.conversation,
      messageHistoryId: context.inputRowId,
      contactId: context.contact.id,
      flowMessageId: effect.messageId,
      fileName: displayNameOf(effect.file) || effect.file.name,
      fileType: effect.fileType,
      mimeType: effect.file.mimeType,
      mediaUrl: effect.file.url,
      mediaPath: effect.file.path,
    });
  },
};
