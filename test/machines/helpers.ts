import type { Effect, FileInput, FlowDefinition, MessageDefinition, SubflowDefinition, UserInput } from '../../machines/index.js';

export const contact = { id: 7, name: 'Ana', number: '5511999990000' };

export function msg(id: number, text: string, overrides: Partial<MessageDefinition> = {}): MessageDefinition {
  return {
    id,
    text,
    type: 'text',
    orderIndex: id,
    waitForResponse: true,
    waitForFile: false,
    expectedFileTypes: [],
    delaySeconds: 0,
    saveResponseAs: null,
    ...overrides,
  };
}

/** A message that waits for nothing. */
export function say(id: number, text: string, overrides: Partial<MessageDefinition> = {}): MessageDefinition {
  return msg(id, text, { waitForResponse: false, ...overrides });
}

export function askFile(id: number, text: string, types: string[], overrides: Partial<MessageDefinition> = {}) {
  return msg(id, text, { waitForResponse: false, waitForFile: true, expectedFileTypes: types, ...overrides });
}

export function sub(
  id: number,
  messages: MessageDefinition[],
  overrides: Partial<Omit<SubflowDefinition, 'messages'>> = {},
): SubflowDefinition {
  return { id, name: `sf${id}`, orderIndex: id, parentSubflowId: null, triggerKeywords: [], messages, ...overrides };
}

export function flowOf(...subflows: SubflowDefinition[]): FlowDefinition {
  return { flowId: 1, name: 'test flow', subflows };
}

export function text(value: string, at = 0, cooldownMs = 60_000): UserInput {
  return { type: 'USER_INPUT', text: value, file: null, at, cooldownMs };
}

export function fileNamed(name: string, mimeType: string | null = null): FileInput {
  return { name, mimeType, url: null, path: null };
}

export function withFile(file: FileInput, caption = '', at = 0, cooldownMs = 60_000): UserInput {
  return { type: 'USER_INPUT', text: caption, file, at, cooldownMs };
}

/** Compact view of effects for readable assertions. */
export function sent(effects: Effect[]): string[] {
  return effects.map((effect) => {
    switch (effect.kind) {
      case 'send':
        return `${effect.reason}:${effect.messageId}:${effect.text}`;
      case 'file_received':
        return `file:${effect.messageId}:${effect.fileType}`;
      case 'variable_saved':
        return `var:${effect.name}=${effect.value}`;
      case 'keyword_matched':
        return `keyword:${effect.subflowId}:${effect.keyword}`;
      case 'completed':
        return 'completed';
      case 'action_requested':
        return `action:${effect.messageId}:${effect.index}:${effect.action.type}`;
      case 'timer':
        return `timer:${effect.delayMs}`;
      case 'timer_cancelled':
        return `cancel:${effect.sendId}`;
      case 'handoff':
        return `handoff:${effect.messageId}`;
      case 'closed':
        return 'closed';
    }
  });
}
