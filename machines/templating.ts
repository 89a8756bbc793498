// Names may not contain braces or whitespace, so "{{ a b }}" is left as typed rather than guessed at.
const placeholder = /\{\{\s*([^{}\s]+)\s*\}\}/g;

export function renderTemplate(text: string, values: Record<string, string>): string {
  // Object.hasOwn keeps names like "constructor" from resolving to Object.prototype members.
  return text.replace(placeholder, (_match, name: string) =>
    Object.hasOwn(values, name) ? (values[name] ?? '') : '',
  );
}

export function templateVariables(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(placeholder)) {
    if (match[1] !== undefined) names.add(match[1]);
  }
  return [...names];
}
