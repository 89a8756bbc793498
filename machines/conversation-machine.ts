import { assign, setup } from 'xstate';
import { ACTION_ERROR_VARIABLE, renderAction, type ActionResultEvent } from './actions.js';
import type {
  ActionRefParams,
  EffectActionName,
  ExpectedFileParams,
  FileTypesParams,
  MessageRefParams,
  RepromptLimitParams,
  RepromptParams,
  RequestActionParams,
  StoreActionResultParams,
  SendFlowMessageParams,
  SubflowRefParams,
  VariableParams,
} from './catalogue.js';
import { effectActionNames } from './catalogue.js';
import type { Effect } from './effects.js';
import type { ConversationContext, ConversationInput, FileInput, UserInput } from './events.js';
import { isWithinBusinessHours } from './business-hours.js';
import { displayNameOf, fileMatchesExpected, fileTypeOf, wrongFileTypeText } from './file-types.js';
import type { KeywordMatch } from './keywords.js';
import { renderTemplate } from './templating.js';

export type ConversationEvent = UserInput | ActionResultEvent;
type ResolverArgs = { context: ConversationContext; event: ConversationEvent };

function templateValues(context: ConversationContext): Record<string, string> {
  return { ...context.variables, contact_name: context.contact.name, contact_number: context.contact.number };
}

function copyFile(file: FileInput): FileInput {
  return { name: file.name, mimeType: file.mimeType, url: file.url, path: file.path };
}

function isUserInput(event: ConversationEvent): event is UserInput {
  return event.type === 'USER_INPUT';
}

/**
 * Turns the static params written in the JSON config into the final `Effect`, once xstate hands us
 * the context and event of the moment the action runs (after earlier assigns in the same step).
 */
function effectResolvers(
  matchKeyword: (event: ConversationEvent) => KeywordMatch | null,
): Record<EffectActionName, (params: never, args: ResolverArgs) => Effect> {
  return {
    sendFlowMessage: (p: SendFlowMessageParams, { context }) => ({
      kind: 'send',
      reason: 'flow',
      messageId: p.messageId,
      subflowId: p.subflowId,
      text: renderTemplate(p.text, templateValues(context)),
      delaySeconds: p.delaySeconds,
    }),
    reprompt: (p: RepromptParams, { context }) => ({
      kind: 'send',
      reason: 'reprompt',
      messageId: p.messageId,
      subflowId: p.subflowId,
      text: renderTemplate(p.text, templateValues(context)),
      delaySeconds: 0,
    }),
    explainWrongFileType: (p: ExpectedFileParams, { event }) => ({
      kind: 'send',
      reason: 'wrong_file_type',
      messageId: p.messageId,
      subflowId: p.subflowId,
      text: isUserInput(event) && event.file ? wrongFileTypeText(event.file, p.expectedFileTypes) : '',
      delaySeconds: 0,
    }),
    recordFileReceived: (p: MessageRefParams, { event }) => {
      const file = (isUserInput(event) ? event.file : null) ?? { name: '', mimeType: null, url: null, path: null };
      return {
        kind: 'file_received',
        messageId: p.messageId,
        subflowId: p.subflowId,
        file: copyFile(file),
        fileType: fileTypeOf(file),
      };
    },
    announceVariableSaved: (p: VariableParams, { context }) => ({
      kind: 'variable_saved',
      name: p.name,
      value: Object.hasOwn(context.variables, p.name) ? (context.variables[p.name] ?? '') : '',
    }),
    announceKeywordMatch: (p: SubflowRefParams, { event }) => ({
      kind: 'keyword_matched',
      subflowId: p.subflowId,
      keyword: matchKeyword(event)?.keyword ?? '',
    }),
    announceCompleted: () => ({ kind: 'completed' }),
    requestAction: (p: RequestActionParams, { context }) => ({
      kind: 'action_requested',
      messageId: p.messageId,
      subflowId: p.subflowId,
      index: p.index,
      action: renderAction(p.action, templateValues(context)),
    }),
    sendReminder: (p: RepromptParams, { context }) => ({
      kind: 'send',
      reason: 'reminder',
      messageId: p.messageId,
      subflowId: p.subflowId,
      text: renderTemplate(p.text, templateValues(context)),
      delaySeconds: 0,
    }),
    sendCloseText: (p: RepromptParams, { context }) => ({
      kind: 'send',
      reason: 'close',
      messageId: p.messageId,
      subflowId: p.subflowId,
      text: renderTemplate(p.text, templateValues(context)),
      delaySeconds: 0,
    }),
    handOff: (p: MessageRefParams) => ({ kind: 'handoff', messageId: p.messageId, subflowId: p.subflowId }),
    announceClosed: () => ({ kind: 'closed' }),
  };
}

const effectActionSet: ReadonlySet<string> = new Set(effectActionNames);

export function isEffectAction(type: string): type is EffectActionName {
  return effectActionSet.has(type);
}

/** Deep-copies the JSON config, swapping each effect action's static params for a resolver. */
function withResolvers(node: unknown, resolvers: ReturnType<typeof effectResolvers>): unknown {
  if (Array.isArray(node)) return node.map((item) => withResolvers(item, resolvers));
  if (node === null || typeof node !== 'object') return node;
  const record = node as Record<string, unknown>;
  const type = record['type'];
  if (typeof type === 'string' && isEffectAction(type)) {
    const staticParams = (record['params'] ?? {}) as never;
    const resolve = resolvers[type];
    return { type, params: (args: ResolverArgs) => resolve(staticParams, args) };
  }
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, withResolvers(value, resolvers)]));
}

const noop = () => {};

function withVariable(context: ConversationContext, name: string, value: string): Record<string, string> {
  return { ...context.variables, [name]: value };
}

function conversationSetup(matchKeyword: (event: ConversationEvent) => KeywordMatch | null) {
  const noKeywordMatch = (event: ConversationEvent) => matchKeyword(event) === null;
  const fileOf = (event: ConversationEvent) => (isUserInput(event) ? event.file : null);
  return setup({
    types: {} as { context: ConversationContext; events: ConversationEvent; input: ConversationInput },
    guards: {
      keywordSelects: ({ event }, params: SubflowRefParams) => matchKeyword(event)?.subflowId === params.subflowId,
      noKeywordMatch: ({ event }) => noKeywordMatch(event),
      shouldReprompt: ({ context, event }) =>
        isUserInput(event) &&
        noKeywordMatch(event) &&
        (context.lastRepromptAt === null || event.at - context.lastRepromptAt >= event.cooldownMs),
      fileAccepted: ({ event }, params: FileTypesParams) => {
        const file = fileOf(event);
        return file !== null && fileMatchesExpected(file, params.expectedFileTypes);
      },
      fileRejected: ({ event }, params: FileTypesParams) => {
        const file = fileOf(event);
        return file !== null && !fileMatchesExpected(file, params.expectedFileTypes);
      },
      actionResultFor: ({ event }, params: ActionRefParams) =>
        event.type === 'ACTION_RESULT' && event.messageId === params.messageId && event.index === params.index,
      // SPEC §10: evaluated against the time of the event that entered the subflow.
      outOfBusinessHours: ({ event }) => !isWithinBusinessHours(event.businessHours ?? null, event.at ?? 0),
      repromptLimitReached: ({ context, event }, params: RepromptLimitParams) =>
        noKeywordMatch(event) && (context.repromptCount ?? 0) >= params.max,
    },
    actions: {
      // Effect actions do nothing when executed: the pure API returns them and their params are the effects.
      sendFlowMessage: noop,
      reprompt: noop,
      explainWrongFileType: noop,
      recordFileReceived: noop,
      announceVariableSaved: noop,
      announceKeywordMatch: noop,
      announceCompleted: noop,
      requestAction: noop,
      sendReminder: noop,
      sendCloseText: noop,
      handOff: noop,
      announceClosed: noop,
      storeResponse: assign(({ context, event }, params: VariableParams) => ({
        variables: withVariable(context, params.name, isUserInput(event) ? event.text : ''),
      })),
      storeFileName: assign(({ context, event }, params: VariableParams) => {
        const file = fileOf(event);
        return { variables: withVariable(context, params.name, file ? displayNameOf(file) : '') };
      }),
      markReprompt: assign(({ context, event }) => ({ lastRepromptAt: isUserInput(event) ? event.at : context.lastRepromptAt })),
      clearActionError: assign(({ context }) => ({ variables: withVariable(context, ACTION_ERROR_VARIABLE, '') })),
      storeActionResult: assign(({ context, event }, params: StoreActionResultParams) => {
        if (event.type !== 'ACTION_RESULT') return {};
        let variables = context.variables;
        if (params.saveResultAs) variables = { ...variables, [params.saveResultAs]: event.ok ? event.value : '' };
        if (!event.ok) variables = { ...variables, [ACTION_ERROR_VARIABLE]: event.error };
        return { variables };
      }),
      clearReprompt: assign({ lastRepromptAt: null }),
      countReprompt: assign(({ context }) => ({ repromptCount: (context.repromptCount ?? 0) + 1 })),
      resetRepromptCount: assign({ repromptCount: 0 }),
    },
  });
}

export type ConversationSetup = ReturnType<typeof conversationSetup>;
export type ConversationMachine = ReturnType<ConversationSetup['createMachine']>;

/**
 * `keywordMatcher` is the flow's precompiled matcher. Its answer is memoised per event object
 * because every root-level keyword guard (one per subflow) asks the same question.
 */
export function createConversationMachine(
  config: Record<string, unknown>,
  keywordMatcher: (text: string) => KeywordMatch | null,
): ConversationMachine {
  const cache = new WeakMap<UserInput, KeywordMatch | null>();
  const matchKeyword = (event: ConversationEvent): KeywordMatch | null => {
    if (!isUserInput(event)) return null;
    const cached = cache.get(event);
    if (cached !== undefined) return cached;
    const match = keywordMatcher(event.text);
    cache.set(event, match);
    return match;
  };
  const liveConfig = {
    ...(withResolvers(config, effectResolvers(matchKeyword)) as Record<string, unknown>),
    context: ({ input }: { input: ConversationInput }): ConversationContext => ({
      contact: { id: input.contact.id, name: input.contact.name, number: input.contact.number },
      variables: { ...input.variables },
      lastRepromptAt: null,
    }),
  };
  return conversationSetup(matchKeyword).createMachine(liveConfig as Parameters<ConversationSetup['createMachine']>[0]);
}
