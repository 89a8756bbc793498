export { flowDefinitionSchema, messageDefinitionSchema, subflowDefinitionSchema } from './flow-definition.js';
export type { FlowDefinition, MessageDefinition, SubflowDefinition } from './flow-definition.js';
export type { Contact, ConversationContext, ConversationInput, FileInput, TimerEvent, UserInput } from './events.js';
export type { Effect, SendReason } from './effects.js';
export { createKeywordMatcher, findBestKeywordMatch, matchesKeyword, normalizeForMatch } from './keywords.js';
export type { KeywordMatch } from './keywords.js';
export { renderTemplate, templateVariables } from './templating.js';
export { displayNameOf, fileMatchesExpected, fileTypeOf, wrongFileTypeText } from './file-types.js';
export { actionNames, contextActionNames, effectActionNames, guardNames } from './catalogue.js';
export { compileFlow, FlowCompileError } from './compile.js';
export type { CompiledFlow } from './compile.js';
export type { ConversationEvent, ConversationMachine } from './conversation-machine.js';
export {
  isConversationDone,
  positionOf,
  resumeWithActionResult,
  SnapshotRestoreError,
  startConversation,
  stepConversation,
} from './conversation-step.js';
export type { Position, StepResult } from './conversation-step.js';
export { builtInVariables, validateFlow } from './flow-validation.js';
export type { Finding, FindingKind, FindingSeverity } from './flow-validation.js';
export { previewConversation } from './conversation-preview.js';
export type { PreviewStep } from './conversation-preview.js';
export {
  ACTION_ERROR_VARIABLE,
  actionTemplates,
  flowActionSchema,
  flowActionsSchema,
  flowActionTypes,
  renderAction,
  resultVariableOf,
  serviceOf,
} from './actions.js';
export type { ActionResultEvent, ActionService, FlowAction, FlowActionType } from './actions.js';
export { pendingActionOf } from './state-keys.js';
export { fireTimer, isAfterEvent, timerEffectsOf } from './timers.js';
export { businessHoursSchema, isKnownTimeZone, isWithinBusinessHours, localTime, weekDays } from './business-hours.js';
export type { BusinessHours, WeekDay } from './business-hours.js';
export { minutesToMs } from './attendant.js';
export { previewWithTimers } from "./attendant-preview.js";
export type { PreviewItem } from "./attendant-preview.js";
