/**
 * Every guard and action a compiled flow config may reference. xstate throws on an unknown guard
 * but silently drops an unknown action, so compile-time configs are checked against these lists.
 */
export const guardNames = [
  'keywordSelects',
  'noKeywordMatch',
  'shouldReprompt',
  'fileAccepted',
  'fileRejected',
  // SPEC §10 (machines/attendant.ts)
  'outOfBusinessHours',
  'repromptLimitReached',
  // SPEC §8 (machines/actions-compile.ts)
  'actionResultFor',
] as const;

/** Actions whose resolved params are the `Effect` itself; everything the runtime must do comes from these. */
export const effectActionNames = [
  'sendFlowMessage',
  'reprompt',
  'explainWrongFileType',
  'recordFileReceived',
  'announceVariableSaved',
  'announceKeywordMatch',
  'announceCompleted',
  // SPEC §10 (machines/attendant.ts)
  'sendReminder',
  'sendCloseText',
  'handOff',
  'announceClosed',
  // SPEC §8 (machines/actions-compile.ts)
  'requestAction',
] as const;

/** Actions that only update context. */
export const contextActionNames = [
  'storeResponse',
  'storeFileName',
  'markReprompt',
  'clearReprompt',
  // SPEC §10: re-prompts in a row on the current message
  'countReprompt',
  'resetRepromptCount',
  // SPEC §8: {{action_error}} and an action's result variable
  'clearActionError',
  'storeActionResult',
] as const;

export const actionNames = [...effectActionNames, ...contextActionNames] as const;

export type GuardName = (typeof guardNames)[number];
export type EffectActionName = (typeof effectActionNames)[number];
export type ActionName = (typeof actionNames)[number];

/** Static (JSON) params as written into the config, before the runtime context/event fill them in. */
export type SendFlowMessageParams = { messageId: number; subflowId: number; text: string; delaySeconds: number };
export type RepromptParams = { messageId: number; subflowId: number; text: string };
export type ExpectedFileParams = { messageId: number; subflowId: number; expectedFileTypes: string[] };
export type MessageRefParams = { messageId: number; subflowId: number };
export type VariableParams = { name: string };
export type SubflowRefParams = { subflowId: number };
export type FileTypesParams = { expectedFileTypes: string[] };
export type RequestActionParams = { messageId: number; subflowId: number; index: number; action: import('./actions.js').FlowAction };
export type ActionRefParams = { messageId: number; index: number };
export type StoreActionResultParams = { saveResultAs: string | null };
export type RepromptLimitParams = { max: number };
