import { displayNameOf } from '../../machines/index.js';
import type { EffectKind } from './effect-registry.js';
import { actionRunOf } from './step-writes.js';

/** The action_runs type of a received file's download. */
export const FILE_DOWNLOAD_TYPE = 'file.download';

/** A file the flow accepted: recorded with the inbound message it came in. */
export const fileReceivedEffect: EffectKind<'file_received'> = {
  row: 'received_files',
  executor: 'src/actions/action-executor.ts downloads it (a file.download run) into FILES_DIR',
  retry: 'the row is written with the step; the download is retried like an action',
  failures: 'a step that cannot be written is retried (GET /api/inbox?status=stuck); downloads: GET /api/actions?status=failed',
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
    // SPEC §8: the file is downloaded from mediaUrl after the step commits; nothing waits for it
    // but the contact's later actions (one run at a time per contact, in order).
    if (effect.file.url) {
      writes.actionRuns.push(
        actionRunOf(context, {
          flowMessageId: effect.messageId,
          index: 0,
          type: FILE_DOWNLOAD_TYPE,
          action: { type: FILE_DOWNLOAD_TYPE, message_history_id: context.inputRowId, url: effect.file.url },
          fed: true,
        }),
      );
    }
  },
};
