import { actionNames, guardNames } from './catalogue.js';

const knownGuards: ReadonlySet<string> = new Set(guardNames);
const knownActions: ReadonlySet<string> = new Set(actionNames);

function typesUnder(node: unknown, key: string, inside: boolean, found: Set<string>): void {
  if (typeof node === 'string') {
    if (inside) found.add(node);
    return;
  }
  if (Array.isArray(node)) {
    for (const item of node) typesUnder(item, key, inside, found);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  if (inside && typeof record['type'] === 'string') {
    found.add(record['type']);
    return;
  }
  for (const [name, value] of Object.entries(record)) typesUnder(value, key, name === key, found);
}

/**
 * Guards and actions a compiled config names that machines/catalogue.ts does not list (DESIGN §2:
 * xstate throws on an unknown guard only when it is evaluated and silently drops an unknown
 * action). Written as `guard:<name>` / `action:<name>`.
 */
export function uncataloguedNames(config: Record<string, unknown>): string[] {
  const guards = new Set<string>();
  const actions = new Set<string>();
  typesUnder(config, 'guard', false, guards);
  typesUnder(config, 'actions', false, actions);
  typesUnder(config, 'entry', false, actions);
  return [
    ...[...guards].filter((name) => !knownGuards.has(name)).map((name) => `guard ${name}`),
    ...[...actions].filter((name) => !knownActions.has(name)).map((name) => `action ${name}`),
  ];
}
