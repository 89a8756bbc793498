// Names may not contain braces, whitespace or '|', so "{{ a b }}" is left as typed rather than
// guessed at. `{{name|text}}` gives `text` when the variable is empty or unknown (SPEC §8: a
// message after actions can read well whether they worked or not).
const placeholder = /\{\{\s*([^{}\s|]+)\s*(?:\|([^{}]*))?\}\}/g;

export function renderTemplate(text: string, values: Record<string, string>): string {
  // Object.hasOwn keeps names like "constructor" from resolving to Object.prototype members.
  return text.replace(placeholder, (_match, name: string, fallback: string | undefined) => {
    const value = Object.hasOwn(values, name) ? (values[name] ?? '') : '';
    return value === '' && fallback !== undefined ? fallback.trim() : value;
  });
}

export function templateVariables(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(placeholder)) {
    if (match[1] !== undefined) names.add(match[1]);
  }
  return [...names];
}
