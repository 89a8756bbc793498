import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

// SPEC §8: received files, kept on disk under FILES_DIR. A file is written to a temporary name
// and renamed into place only once complete and within the limit, so a reader never sees half a
// file and a refused or broken download leaves nothing behind. With several machines, FILES_DIR
// must be one shared volume (NFS, EFS, a mounted bucket): the worker that uploads a file may not
// be the one that downloaded it (README).

export class FileTooLargeError extends Error {
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super(`file larger than ${Math.round((maxBytes / 1024 / 1024) * 100) / 100} MB`);
    this.name = 'FileTooLargeError';
    this.maxBytes = maxBytes;
  }
}

export interface FileStorage {
  readonly dir: string;
  /** Streams `source` into `key`; throws FileTooLargeError past `maxBytes` (nothing is kept). */
  save(key: string, open: () => Readable, maxBytes: number): Promise<{ size: number }>;
  pathOf(key: string): string;
  exists(key: string): Promise<boolean>;
}

/** Counts bytes as they pass and stops the stream past the limit. */
export function byteLimit(maxBytes: number): Transform & { readonly bytes: number } {
  let bytes = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (bytes > maxBytes) callback(new FileTooLargeError(maxBytes));
      else callback(null, chunk);
    },
  });
  return Object.defineProperty(limiter, 'bytes', { get: () => bytes }) as Transform & { readonly bytes: number };
}

/** A key made only of safe characters, so no received name can climb out of FILES_DIR. */
export function storageKey(contactId: number, fileId: number, name: string): string {
  const safe = name.normalize('NFKD').replace(/[^\w.-]+/g, '_').replace(/^\.+/, '').slice(-120) || 'file';
  return `${contactId}/${fileId}-${safe}`;
}

export function createDiskFileStorage(dir: string): FileStorage {
  const root = path.resolve(dir);
  const pathOf = (key: string) => {
    const full = path.resolve(root, key);
    if (!full.startsWith(root + path.sep)) throw new Error(`storage key outside FILES_DIR: ${key}`);
    return full;
  };
  return {
    dir: root,
    pathOf,
    async save(key, open, maxBytes) {
      const target = pathOf(key);
      await mkdir(path.dirname(target), { recursive: true });
      const partial = `${target}.partial-${process.pid}-${Date.now()}`;
      const limiter = byteLimit(maxBytes);
      const writer = createWriteStream(partial, { flags: 'wx' });
      try {
        // Opened only once the folder exists, so its first error has a listener.
        await pipeline(open(), limiter, writer);
        await rename(partial, target);
        return { size: limiter.bytes };
      } catch (error) {
        // The pipeline fails at the first error, which can come before the writer has even
        // created its file (a length refused from the headers): remove it once the writer closed.
        if (!writer.closed) await once(writer, 'close').catch(() => undefined);
        await rm(partial, { force: true });
        throw error;
      }
    },
    async exists(key) {
      try {
        return (await stat(pathOf(key))).isFile();
      } catch {
        return false;
      }
    },
  };
}
