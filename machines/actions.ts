import { z } from 'zod';
import type { BusinessHours } from './business-hours.js';
import { renderTemplate } from './templating.js';

// SPEC §8: the actions a flow message runs before its text is sent. Plain data; every string is a
// template filled in (rule 7) when the conversation reaches the message, so an action can use the
// results of the actions before it. The shell (src/actions/) carries them out durably and feeds
// each result back to the machine as an ACTION_RESULT event.

const text = (max: number) => z.string({ error: (issue) => (issue.input === undefined ? 'required' : 'must be text') }).max(max, `must be at most ${max} characters`);
const required = (max: number) => text(max).refine((value) => value.trim() !== '', 'must not be empty');
const variableName = z
  .string({ error: 'must be a variable name' })
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a variable name (letters, digits, _; at most 64)')
  .refine((name) => !['contact_name', 'contact_number', 'action_error'].includes(name), 'is a reserved variable name');

const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string().max(4096), z.number(), z.boolean(), z.null(), z.array(jsonValue).max(100), z.record(z.string(), jsonValue)]),
);

export const ponttaCreateOccurrenceSchema = z.object({
  type: z.literal('pontta.create_occurrence'),
  title: required(300),
  note: text(4000),
  sales_order_code: text(100).optional(),
  save_result_as: variableName.optional(),
});
export const ponttaAttachFilesSchema = z.object({
  type: z.literal('pontta.attach_files'),
  occurrence: required(200),
});
export const driveUploadFilesSchema = z.object({
  type: z.literal('drive.upload_files'),
  folder_id: text(200).optional(),
});
export const sheetsAppendRowSchema = z.object({
  type: z.literal('sheets.append_row'),
  values: z.array(text(4000), { error: 'must be a list of texts' }).min(1, 'must hold at least one value').max(100, 'must hold at most 100 values'),
  sheet_id: text(200).optional(),
  range: text(200).optional(),
});
export const httpPostSchema = z.object({
  type: z.literal('http.post'),
  url: required(2000).refine((url) => /^https?:\/\//i.test(url.trim()), 'must be an http(s) URL'),
  body: jsonValue.optional(),
  save_result_as: variableName.optional(),
  result_path: text(200).optional(),
});

export const flowActionSchema = z.discriminatedUnion(
  'type',
  [ponttaCreateOccurrenceSchema, ponttaAttachFilesSchema, driveUploadFilesSchema, sheetsAppendRowSchema, httpPostSchema],
  { error: 'must be an action whose type is pontta.create_occurrence, pontta.attach_files, drive.upload_files, sheets.append_row or http.post' },
);
export const flowActionsSchema = z.array(flowActionSchema, { error: 'must be a list of actions' }).max(20, 'must hold at most 20 actions');

export type FlowAction = z.output<typeof flowActionSchema>;
export type FlowActionType = FlowAction['type'];
export const flowActionTypes: readonly FlowActionType[] = [
  'pontta.create_occurrence',
  'pontta.attach_files',
  'drive.upload_files',
  'sheets.append_row',
  'http.post',
];

/** Which configured service an action needs (flow validation and run-time failures name it). */
export type ActionService = 'pontta' | 'google_drive' | 'google_sheets' | 'none';
export function serviceOf(type: FlowActionType): ActionService {
  switch (type) {
    case 'pontta.create_occurrence':
    case 'pontta.attach_files':
      return 'pontta';
    case 'drive.upload_files':
      return 'google_drive';
    case 'sheets.append_row':
      return 'google_sheets';
    case 'http.post':
      return 'none';
  }
}

/** The variable an action's result is stored in, if any. */
export function resultVariableOf(action: FlowAction): string | null {
  return 'save_result_as' in action && action.save_result_as ? action.save_result_as : null;
}

/** Variable set to a short reason when an action fails, and emptied when a message's actions start. */
export const ACTION_ERROR_VARIABLE = 'action_error';

function renderDeep(value: unknown, values: Record<string, string>): unknown {
  if (typeof value === 'string') return renderTemplate(value, values);
  if (Array.isArray(value)) return value.map((item) => renderDeep(item, values));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderDeep(item, values)]));
  }
  return value;
}

/** Every string of the action filled in; `type` and `save_result_as` are names, never templates. */
export function renderAction(action: FlowAction, values: Record<string, string>): FlowAction {
  const rendered = renderDeep(action, values) as FlowAction;
  const saveAs = resultVariableOf(action);
  return { ...rendered, type: action.type, ...(saveAs === null ? {} : { save_result_as: saveAs }) } as FlowAction;
}

/** Every `{{variable}}` an action's strings use. */
export function actionTemplates(action: FlowAction): string[] {
  const texts: string[] = [];
  const walk = (value: unknown, key?: string) => {
    if (key === 'type' || key === 'save_result_as') return;
    if (typeof value === 'string') texts.push(value);
    else if (Array.isArray(value)) value.forEach((item) => walk(item));
    else if (value !== null && typeof value === 'object') for (const [k, item] of Object.entries(value)) walk(item, k);
  };
  walk(action);
  return texts;
}

/** The outcome of one action, fed back to the conversation by the step engine. */
export type ActionResultEvent = {
  type: 'ACTION_RESULT';
  messageId: number;
  index: number;
  ok: boolean;
  /** The result stored in `save_result_as` (empty text on failure). */
  value: string;
  /** A short reason on failure, for `{{action_error}}`. */
  error: string;
  /** epoch ms and settings of the step that feeds it (input-like, for guards such as business hours). */
  at?: number;
  cooldownMs?: number;
  businessHours?: BusinessHours | null;
};
