import type { FileInput, UserInput } from '../../machines/index.js';
import type { InboxRow } from './step-repository.js';

export interface BatchInput {
  readonly input: UserInput;
  /** The inbox rows this input stands for; they are marked processed with it. */
  readonly rowIds: readonly number[];
  /** The inbox row of a file input, for received_files. */
  readonly fileRowId: number | null;
}

/**
 * SPEC §3 debounce: texts that arrived together become one input joined by newlines; every file
 * is an input of its own with its caption; arrival order is kept.
 */
export function buildInputs(rows: readonly InboxRow[], at: number, cooldownMs: number): BatchInput[] {
  const inputs: BatchInput[] = [];
  let texts: InboxRow[] = [];
  const flushTexts = () => {
    if (texts.length === 0) return;
    inputs.push({
      input: { type: 'USER_INPUT', text: texts.map((row) => row.body).join('\n'), file: null, at, cooldownMs },
      rowIds: texts.map((row) => row.id),
      fileRowId: null,
    });
    texts = [];
  };
  for (const row of rows) {
    if (row.media_type !== 'application') {
      texts.push(row);
      continue;
    }
    flushTexts();
    inputs.push({
      input: { type: 'USER_INPUT', text: row.body, file: fileOf(row), at, cooldownMs },
      rowIds: [row.id],
      fileRowId: row.id,
    });
  }
  flushTexts();
  return inputs;
}

function fileOf(row: InboxRow): FileInput {
  const stored = lastSegment(row.media_path) || lastSegment(urlPath(row.media_url));
  const caption = row.body.trim();
  // WhatsApp media paths often have no extension; a caption like "projeto.dwg" names the file then.
  const captionNamesFile = !hasExtension(stored) && hasExtension(caption) && !/\s/.test(caption);
  return {
    name: captionNamesFile ? caption : stored || caption,
    mimeType: row.media_mime_type?.trim() || null,
    url: row.media_url,
    path: row.media_path,
  };
}

function hasExtension(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && dot < name.length - 1 && /^[a-z0-9]{1,8}$/i.test(name.slice(dot + 1));
}

function urlPath(url: string | null): string | null {
  if (!url) return null;
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    return url;
  }
}

function lastSegment(pathLike: string | null): string {
  if (!pathLike) return '';
  const withoutQuery = pathLike.split(/[?#]/, 1)[0] ?? '';
  return withoutQuery.split(/[/\\]/).pop()?.trim() ?? '';
}
