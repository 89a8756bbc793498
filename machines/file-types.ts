import type { FileInput } from './events.js';

function lastSegment(pathLike: string): string {
  const withoutQuery = pathLike.split(/[?#]/, 1)[0] ?? '';
  const segments = withoutQuery.split(/[/\\]/);
  return segments[segments.length - 1] ?? '';
}

function urlPath(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    return url;
  }
}

function extensionOf(pathLike: string | null): string {
  if (!pathLike) return '';
  const base = lastSegment(pathLike);
  const dot = base.lastIndexOf('.');
  // A leading dot is a hidden file, not an extension.
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

function candidateExtensions(file: FileInput): string[] {
  return [extensionOf(file.name), extensionOf(file.path), extensionOf(file.url ? urlPath(file.url) : null)].filter(
    (ext) => ext !== '',
  );
}

export function fileTypeOf(file: FileInput): string {
  return candidateExtensions(file)[0] ?? '';
}

/** Best human-readable name for messages and saved variables; WhatsApp media often has no name. */
export function displayNameOf(file: FileInput): string {
  if (file.name.trim() !== '') return file.name;
  if (file.path) return lastSegment(file.path);
  if (file.url) return lastSegment(urlPath(file.url));
  return '';
}

// Extensions whose MIME type does not simply end in the extension itself.
const mimeTypesByExtension: Record<string, readonly string[]> = {
  jpg: ['image/jpeg'],
  jpeg: ['image/jpeg'],
  tif: ['image/tiff'],
  dwg: ['image/vnd.dwg', 'image/x-dwg', 'application/acad', 'application/x-acad', 'application/dwg', 'application/x-dwg'],
  dxf: ['image/vnd.dxf', 'application/dxf', 'image/x-dxf'],
  doc: ['application/msword'],
  docx: ['application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  xls: ['application/vnd.ms-excel'],
  xlsx: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  ppt: ['application/vnd.ms-powerpoint'],
  pptx: ['application/vnd.openxmlformats-officedocument.presentationml.presentation'],
  txt: ['text/plain'],
  mp3: ['audio/mpeg'],
  rar: ['application/vnd.rar', 'application/x-rar-compressed'],
  '7z': ['application/x-7z-compressed'],
};

const extensionAliases: Record<string, string> = { jpeg: 'jpg', tiff: 'tif' };

function canonicalExtension(ext: string): string {
  return Object.hasOwn(extensionAliases, ext) ? (extensionAliases[ext] ?? ext) : ext;
}

function normalizeExpected(expected: readonly string[]): string[] {
  return expected.map((type) => type.trim().toLowerCase().replace(/^\*?\./, '')).filter((type) => type !== '');
}

function mimeMatches(mimeType: string, expected: string): boolean {
  const mime = mimeType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  if (mime === '') return false;
  if (expected.includes('/')) {
    // Admins may list MIME types ("application/pdf") or families ("image/*") instead of extensions.
    return expected.endsWith('/*') ? mime.startsWith(expected.slice(0, -1)) : mime === expected;
  }
  if (Object.hasOwn(mimeTypesByExtension, expected) && mimeTypesByExtension[expected]?.includes(mime)) return true;
  const subtype = (mime.split('/')[1] ?? '').replace(/^(x-|vnd\.)/, '');
  return subtype !== '' && canonicalExtension(subtype) === canonicalExtension(expected);
}

/** Empty `expected` means any file. Any of name/path/url extension or the MIME type may satisfy it. */
export function fileMatchesExpected(file: FileInput, expected: readonly string[]): boolean {
  const wanted = normalizeExpected(expected);
  if (wanted.length === 0) return true;
  const extensions = candidateExtensions(file).map(canonicalExtension);
  return wanted.some(
    (type) =>
      extensions.includes(canonicalExtension(type)) || (file.mimeType !== null && mimeMatches(file.mimeType, type)),
  );
}

function joinAlternatives(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} ou ${items[items.length - 1]}`;
}

/** e.g. `O arquivo "foto.jpg" não é do tipo esperado. Envie um arquivo PDF ou DWG.` */
export function wrongFileTypeText(file: FileInput, expected: readonly string[]): string {
  const name = displayNameOf(file);
  const subject = name === '' ? 'O arquivo enviado' : `O arquivo "${name}"`;
  const wanted = [...new Set(normalizeExpected(expected).map((type) => type.toUpperCase()))];
  const hint = wanted.length === 0 ? '' : ` Envie um arquivo ${joinAlternatives(wanted)}.`;
  return `${subject} não é do tipo esperado.${hint}`;
}
