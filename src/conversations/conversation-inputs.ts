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
  return {
    name: lastSegment(row.media_path) || lastSegment(urlPath(row.media_url)) || row.body.trim(),
    mimeType: null,
    url: row.media_url,
    path: row.media_path,
  };
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
