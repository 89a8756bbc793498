import type { Knex } from 'knex';
import { FILE_DOWNLOAD_TYPE } from '../effects/file-received-effect.js';
import { FileTooLargeError, storageKey, type FileStorage } from '../files/file-storage.js';
import type { FileDownloader } from '../files/file-downloader.js';
import type { GoogleClient } from '../integrations/google-client.js';
import type { HttpActionClient } from '../integrations/http-action-client.js';
import type { PonttaClient, StoredFile } from '../integrations/pontta-client.js';
import { lockContactForStep } from '../conversations/contact-lock.js';
import { OUTBOX_CHANNEL } from '../shared/wake-channels.js';
import { ActionError, notConfigured } from './action-errors.js';
import type { ActionRun } from './action-run-repository.js';

// What each action type does (SPEC §8), over the clients. A handler returns the action's result
// (the text for `save_result_as`) or throws; retries and recording are the executor's.

export interface ActionHandlerDeps {
  readonly db: Knex;
  readonly pontta: PonttaClient;
  readonly google: GoogleClient;
  readonly http: HttpActionClient;
  readonly storage: FileStorage;
  readonly downloader: FileDownloader;
  readonly maxFileBytes: number;
}

export type ActionHandler = (run: ActionRun) => Promise<string>;

interface FileRow {
  id: number;
  file_name: string;
  mime_type: string | null;
  storage_key: string;
}

const text = (value: unknown) => (typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value));

/** The conversation's stored files that `pending` says are still to do, oldest first. */
async function storedFiles(db: Knex, run: ActionRun, pending: (q: Knex.QueryBuilder) => void): Promise<FileRow[]> {
  if (run.conversation_id === null) return [];
  return (await db('received_files')
    .where({ conversation_id: run.conversation_id, download_status: 'stored' })
    .whereNotNull('storage_key')
    .modify(pending)
    .orderBy('id')
    .select('id', 'file_name', 'mime_type', 'storage_key')) as FileRow[];
}

function asStored(storage: FileStorage, file: FileRow): StoredFile {
  return { path: storage.pathOf(file.storage_key), name: file.file_name, mimeType: file.mime_type || 'application/octet-stream' };
}

export function tooLargeText(fileName: string, maxBytes: number): string {
  const limit = Math.round((maxBytes / 1024 / 1024) * 10) / 10;
  const name = fileName ? ` "${fileName}"` : '';
  return `Desculpe, o arquivo${name} é grande demais para recebermos por aqui (o limite é de ${limit} MB). Você pode enviar uma versão menor ou um link para baixá-lo?`;
}

export function createActionHandlers(deps: ActionHandlerDeps): Record<string, ActionHandler> {
  const { db, storage } = deps;
  return {
    'pontta.create_occurrence': (run) =>
      deps.pontta.createOccurrence({
        title: text(run.action['title']),
        note: text(run.action['note']),
        salesOrderCode: text(run.action['sales_order_code']) || undefined,
      }),

    'pontta.attach_files': async (run) => {
      const occurrence = text(run.action['occurrence']).trim();
      if (!occurrence) throw new ActionError('no Pontta occurrence to attach the files to', false);
      if (!deps.pontta.configured) throw notConfigured('Pontta', 'PONTTA_AUTH_URL, PONTTA_BASE_URL, PONTTA_BUSINESS_UNIT, PONTTA_EMAIL, PONTTA_PASSWORD');
      const files = await storedFiles(db, run, (q) => q.whereRaw('NOT (? = ANY(pontta_attached_to))', [occurrence]));
      for (const file of files) {
        await deps.pontta.attachFile(occurrence, asStored(storage, file));
        // Recorded file by file, so a retry after a failure half-way attaches only the rest.
        await db('received_files').where({ id: file.id }).update({ pontta_attached_to: db.raw('array_append(pontta_attached_to, ?)', [occurrence]) });
      }
      return String(files.length);
    },

    'drive.upload_files': async (run) => {
      const contact = { id: run.contact_id, number: run.contact_number ?? '', name: run.contact_name ?? '' };
      const folderId = await deps.google.contactFolder(text(run.action['folder_id']) || undefined, contact);
      const files = await storedFiles(db, run, (q) => q.whereNull('drive_file_id'));
      for (const file of files) {
        const driveId = await deps.google.uploadFile(folderId, asStored(storage, file));
        await db('received_files').where({ id: file.id }).update({ drive_file_id: driveId });
      }
      return folderId;
    },

    'sheets.append_row': async (run) => {
      const values = Array.isArray(run.action['values']) ? (run.action['values'] as unknown[]).map(text) : [];
      await deps.google.appendRow(values, text(run.action['sheet_id']) || undefined, text(run.action['range']) || undefined);
      return '';
    },

    'http.post': (run) => deps.http.post(text(run.action['url']), run.action['body'], text(run.action['result_path']) || undefined),

    [FILE_DOWNLOAD_TYPE]: async (run) => {
      const historyId = Number(run.action['message_history_id']);
      const file = (await db('received_files').where({ message_history_id: historyId }).orderBy('id').first('id', 'file_name', 'mime_type')) as
        | { id: number; file_name: string; mime_type: string | null }
        | undefined;
      if (!file) throw new ActionError('the received file is not recorded', false);
      const key = storageKey(run.contact_id, Number(file.id), file.file_name);
      try {
        const stored = await deps.downloader.download(text(run.action['url']), key);
        const mimeType = file.mime_type ?? stored.mimeType;
        await db('received_files').where({ id: file.id }).update({
          storage_key: key,
          file_size_bytes: stored.size,
          mime_type: mimeType,
          download_status: 'stored',
        });
        return key;
      } catch (error) {
        if (!(error instanceof FileTooLargeError)) throw error;
        // SPEC §8: refused politely; nothing of it is kept.
        await db.transaction(async (trx) => {
          // Every writer of a contact's replies holds its step lock: a step batch that leases the
          // contact's next reply (ADR 0013) must see every earlier one.
          await lockContactForStep(trx, run.contact_id);
          await trx('received_files').where({ id: file.id }).update({ download_status: 'too_large', storage_key: null });
          await trx('message_history').insert({
            conversation_id: run.conversation_id,
            contact_id: run.contact_id,
            ticket_id: run.ticket_id,
            contact_name: run.contact_name,
            contact_number: run.contact_number,
            body: tooLargeText(file.file_name, deps.maxFileBytes),
            flow_message_id: run.flow_message_id,
            reason: 'file_too_large',
            due_at: trx.fn.now(),
            direction: 'outbound',
            media_type: 'text',
            status: 'pending',
          });
          await trx.raw('SELECT pg_notify(?, ?)', [OUTBOX_CHANNEL, '']);
        });
        throw new ActionError(`${error.message}: refused, the contact was told`, false);
      }
    },
  };
}
