import got, { HTTPError } from 'got';
import { ActionError, httpFailure, networkFailure } from '../actions/action-errors.js';
import { FileTooLargeError, type FileStorage } from './file-storage.js';

// SPEC §4 and §8: a file a contact sent is downloaded from GOSAC's mediaUrl with GOSAC's own
// Authorization header and streamed into storage, never held whole in memory.

export interface DownloadedFile {
  readonly size: number;
  /** The type GOSAC's file server gave, when it gave one. */
  readonly mimeType: string | null;
}

export interface FileDownloader {
  download(url: string, key: string): Promise<DownloadedFile>;
}

export function createFileDownloader(deps: {
  storage: FileStorage;
  maxBytes: number;
  timeoutMs: number;
  gosac: { readonly authorizationKey: string | undefined; readonly integration: string | undefined };
}): FileDownloader {
  const headers: Record<string, string> = {};
  if (deps.gosac.authorizationKey) headers['Authorization'] = deps.gosac.authorizationKey;
  if (deps.gosac.integration) headers['INTEGRATION'] = deps.gosac.integration;

  return {
    async download(url, key) {
      let mimeType: string | null = null;
      const open = () => {
        const stream = got.stream(url, { headers, retry: { limit: 0 }, timeout: { request: deps.timeoutMs } });
        stream.on('response', (response: { headers: Record<string, string | string[] | undefined> }) => {
          const type = response.headers['content-type'];
          const text = Array.isArray(type) ? type[0] : type;
          mimeType = text ? (text.split(';')[0]?.trim().toLowerCase() ?? null) : null;
          // Refuse before a byte is written when the server says how big it is.
          const length = Number(response.headers['content-length']);
          if (Number.isFinite(length) && length > deps.maxBytes) stream.destroy(new FileTooLargeError(deps.maxBytes));
        });
        return stream;
      };
      try {
        const { size } = await deps.storage.save(key, open, deps.maxBytes);
        return { size, mimeType };
      } catch (error) {
        // got wraps an error given to destroy() in its own RequestError.
        const cause = (error as { cause?: unknown } | null)?.cause;
        if (error instanceof FileTooLargeError) throw error;
        if (cause instanceof FileTooLargeError) throw cause;
        if (error instanceof HTTPError) throw httpFailure('GOSAC media', error.response.statusCode, '');
        if (error instanceof ActionError) throw error;
        throw networkFailure('GOSAC media', error);
      }
    },
  };
}
