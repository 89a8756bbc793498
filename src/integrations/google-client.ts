import { createReadStream } from 'node:fs';
import type { drive_v3, sheets_v4 } from 'googleapis';
import type { Knex } from 'knex';
import { ActionError, httpFailure, networkFailure, notConfigured } from '../actions/action-errors.js';
import type { Config } from '../config.js';
import type { Logger } from '../shared/logger.js';
import type { StoredFile } from './pontta-client.js';

// SPEC §6 and §8: Google Drive and Sheets through `googleapis`, as a service account. DESIGN's
// measured facts shape this file: media uploads take their URL from the per-call options only
// (`rootUrl` on each call), a JWT asks a fixed Google URL for its token unless its transporter's
// request interceptor rewrites it (GOOGLE_TOKEN_URI), and a JWT without scopes sends no
// Authorization at all.

export type GoogleOptions = Config['google'] & { readonly timeoutMs: number };

export interface GoogleClient {
  readonly driveConfigured: boolean;
  readonly sheetsConfigured: boolean;
  /** The contact's folder `<number> <name>` under `parentId`, created once even when workers race. */
  contactFolder(parentId: string | undefined, contact: { id: number; number: string; name: string }): Promise<string>;
  /** Streams the stored file into the folder; the new file's Drive id. */
  uploadFile(folderId: string, file: StoredFile): Promise<string>;
  appendRow(row: string[], sheetId: string | undefined, range: string | undefined): Promise<void>;
}

export const GOOGLE_SCOPES = ['https://www.googleapis.com/auth/drive', 'https://www.googleapis.com/auth/spreadsheets'];
const GOOGLE_DEFAULT_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const FOLDER_MIME = 'application/vnd.google-apps.folder';

function statusOf(error: unknown): number | undefined {
  const candidate = error as { status?: unknown; response?: { status?: unknown } } | null;
  const status = candidate?.response?.status ?? candidate?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Google's errors, including the token endpoint's, as ActionErrors (never with the key in them). */
export function googleFailure(service: string, error: unknown): ActionError {
  if (error instanceof ActionError) return error;
  const status = statusOf(error);
  if (status !== undefined) {
    const data = (error as { response?: { data?: unknown } }).response?.data;
    const message = (data as { error?: { message?: unknown } } | undefined)?.error?.message;
    return httpFailure(service, status, typeof message === 'string' ? message : '');
  }
  return networkFailure(service, error);
}

type GoogleApi = typeof import('googleapis')['google'];
let googleApi: Promise<GoogleApi> | undefined;

// googleapis adds ~70 MB to a process's memory once imported: a process loads it only when Google
// is configured, not in every deployment at start.
function loadGoogleApi(): Promise<GoogleApi> {
  googleApi ??= import('googleapis').then((module) => module.google);
  return googleApi;
}

export function createGoogleClient(deps: { db: Knex; logger: Logger; options: GoogleOptions }): GoogleClient {
  const { options, db } = deps;
  const log = deps.logger.child({ component: 'google' });
  const hasAccount = Boolean(options.clientEmail && options.privateKey);
  const driveConfigured = hasAccount;
  const sheetsConfigured = hasAccount;
  const rootUrl = options.apiRootUrl ? `${options.apiRootUrl.replace(/\/+$/, '')}/` : undefined;
  // Configured: load it now, in the background, so a flow's first Drive or Sheets call does not
  // spend its lease importing the library.
  if (hasAccount) void loadGoogleApi().catch(() => undefined);

  let auth: InstanceType<GoogleApi['auth']['JWT']> | undefined;
  function client(google: GoogleApi) {
    if (!auth) {
      auth = new google.auth.JWT({ email: options.clientEmail, key: options.privateKey, scopes: GOOGLE_SCOPES });
      const tokenUri = options.tokenUri;
      if (tokenUri && tokenUri !== GOOGLE_DEFAULT_TOKEN_URL) {
        // The JWT hands its transporter to gtoken, whose token URL is fixed: rewrite it on the way out.
        auth.transporter.interceptors.request.add({
          resolved: async (config) => {
            if (String(config.url) === GOOGLE_DEFAULT_TOKEN_URL) config.url = new URL(tokenUri);
            return config;
          },
        });
      }
    }
    return auth;
  }
  // Our executor owns retries (durable, with backoff); googleapis must not add its own.
  const callOptions = () => ({ retry: false, timeout: options.timeoutMs, ...(rootUrl ? { rootUrl } : {}) });
  const drive = async (): Promise<drive_v3.Drive> => {
    const google = await loadGoogleApi();
    return google.drive({ version: 'v3', auth: client(google), ...(rootUrl ? { rootUrl } : {}) });
  };
  const sheets = async (): Promise<sheets_v4.Sheets> => {
    const google = await loadGoogleApi();
    return google.sheets({ version: 'v4', auth: client(google), ...(rootUrl ? { rootUrl } : {}) });
  };

  async function createFolder(parentId: string, name: string): Promise<string> {
    try {
      const response = await (await drive()).files.create(
        { requestBody: { name, mimeType: FOLDER_MIME, parents: [parentId] }, fields: 'id', supportsAllDrives: true },
        callOptions(),
      );
      const id = response.data.id;
      if (!id) throw new ActionError('Google Drive created a folder without an id', true);
      return id;
    } catch (error) {
      throw googleFailure('Google Drive', error);
    }
  }

  return {
    driveConfigured,
    sheetsConfigured,

    async contactFolder(parentId, contact) {
      const parent = parentId || options.driveFolderId;
      if (!driveConfigured || !parent) throw notConfigured('Google Drive', 'GOOGLE_CLIENT_EMAIL, GOOGLE_PRIVATE_KEY, GOOGLE_DRIVE_FOLDER_ID');
      const known = async (q: Knex | Knex.Transaction) =>
        ((await q('contact_drive_folders').where({ contact_id: contact.id, parent_folder_id: parent }).first('folder_id')) as
          | { folder_id: string }
          | undefined)?.folder_id;
      const existing = await known(db);
      if (existing) return existing;
      // The contact's lock for folders: a second worker waits here and then finds the row.
      return db.transaction(async (trx) => {
        await trx.raw("SELECT pg_advisory_xact_lock(hashtextextended('drive-folder:' || ?::text || ':' || ?::text, 0))", [contact.id, parent]);
        const found = await known(trx);
        if (found) return found;
        const name = `${contact.number} ${contact.name}`.trim() || `contact ${contact.id}`;
        const folderId = await createFolder(parent, name);
        await trx('contact_drive_folders').insert({ contact_id: contact.id, parent_folder_id: parent, folder_id: folderId });
        log.info({ contactId: contact.id, folderId }, 'created the contact\'s Drive folder');
        return folderId;
      });
    },

    async uploadFile(folderId, file) {
      if (!driveConfigured) throw notConfigured('Google Drive', 'GOOGLE_CLIENT_EMAIL, GOOGLE_PRIVATE_KEY');
      try {
        // Multipart upload, the body read from disk as it is sent; the per-call rootUrl is what moves media uploads.
        const response = await (await drive()).files.create(
          {
            requestBody: { name: file.name, parents: [folderId], mimeType: file.mimeType },
            media: { mimeType: file.mimeType, body: createReadStream(file.path) },
            fields: 'id',
            supportsAllDrives: true,
          },
          callOptions(),
        );
        const id = response.data.id;
        if (!id) throw new ActionError('Google Drive stored the file without an id', true);
        return id;
      } catch (error) {
        throw googleFailure('Google Drive', error);
      }
    },

    async appendRow(row, sheetId, range) {
      const spreadsheetId = sheetId || options.sheetId;
      if (!sheetsConfigured || !spreadsheetId) throw notConfigured('Google Sheets', 'GOOGLE_CLIENT_EMAIL, GOOGLE_PRIVATE_KEY, GOOGLE_SHEET_ID');
      try {
        await (await sheets()).spreadsheets.values.append(
          {
            spreadsheetId,
            range: range || 'A1',
            valueInputOption: 'USER_ENTERED',
            insertDataOption: 'INSERT_ROWS',
            requestBody: { values: [row] },
          },
          callOptions(),
        );
      } catch (error) {
        throw googleFailure('Google Sheets', error);
      }
    },
  };
}
