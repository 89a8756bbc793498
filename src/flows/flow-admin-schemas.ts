import { z } from 'zod';
import { flowActionsSchema } from '../../machines/index.js';

// The admin API's input contract (SPEC §5): snake_case fields as the front end sends them.
// Unknown fields are dropped, so the front end may send back a whole row it loaded.

const INT4_MAX = 2_147_483_647;

const typeError = (expected: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'required' : `must be ${expected}`;

const requiredText = (max: number) =>
  z
    .string({ error: typeError('text') })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);

const optionalText = (max: number) =>
  z.string({ error: typeError('text or null') }).trim().max(max, `must be at most ${max} characters`).nullable().optional();

const integer = (min: number, max: number) =>
  z.int({ error: typeError('a whole number') }).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

const flag = z.boolean({ error: typeError('true or false') });

// SPEC §10: every *_minutes field takes fractions (0.05 = 3 s); at most a year.
const minutes = z
  .number({ error: typeError('a number of minutes') })
  .min(0.01, 'must be at least 0.01 (minutes; fractions allowed)')
  .max(525_600, 'must be at most 525600 (a year)');

export const idSchema = integer(1, INT4_MAX);
const orderIndex = integer(-1_000_000, 1_000_000);

export const templateCreateSchema = z.object({
  name: requiredText(200),
  description: optionalText(2000),
  created_by: optionalText(200),
});
export const templateUpdateSchema = templateCreateSchema.omit({ created_by: true }).partial();

export const flowCreateSchema = z.object({
  template_id: idSchema,
  name: requiredText(200),
  description: optionalText(2000),
  is_default: flag.optional(),
  order_index: orderIndex.optional(),
  close_after_minutes: minutes.nullable().optional(),
  close_text: optionalText(4096),
});
export const flowUpdateSchema = flowCreateSchema.partial();

const keyword = requiredText(100);

export const subflowCreateSchema = z.object({
  flow_id: idSchema,
  name: requiredText(200),
  description: optionalText(2000),
  parent_subflow_id: idSchema.nullable().optional(),
  trigger_keywords: z
    .array(keyword, { error: typeError('a list of keywords') })
    .max(50, 'must hold at most 50 keywords')
    .optional(),
  order_index: orderIndex.optional(),
  business_hours_only: flag.optional(),
  out_of_hours_subflow_id: idSchema.nullable().optional(),
  handoff: flag.optional(),
});
export const subflowUpdateSchema = subflowCreateSchema.partial();

// Names a reply can be stored under and later written as {{name}} in a message text.
const reservedVariables = new Set(['contact_name', 'contact_number']);

export const messageCreateSchema = z.object({
  subflow_id: idSchema,
  message_text: z
    .string({ error: typeError('text') })
    .max(4096, 'must be at most 4096 characters')
    .refine((text) => text.trim() !== '', 'must not be empty'),
  message_type: z
    .string({ error: typeError('text') })
    .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be a type name such as text, image or document')
    .optional(),
  order_index: orderIndex.optional(),
  wait_for_response: flag.optional(),
  wait_for_file: flag.optional(),
  expected_file_types: z
    .array(
      z
        .string({ error: typeError('text') })
        .trim()
        .toLowerCase()
        .min(1, 'must not be empty')
        .max(100, 'must be at most 100 characters'),
      { error: typeError('a list of file types') },
    )
    .max(20, 'must hold at most 20 file types')
    .optional(),
  delay_seconds: integer(0, 86_400).optional(),
  save_response_as: z
    .string({ error: typeError('text or null') })
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a variable name (letters, digits, _; at most 64)')
    .refine((name) => !reservedVariables.has(name), 'is a reserved variable name')
    .nullable()
    .optional(),
  // SPEC §8: run in order when a conversation reaches the message, before its text is sent.
  actions: flowActionsSchema.optional(),
  reminder_after_minutes: minutes.nullable().optional(),
  reminder_text: optionalText(4096),
  max_reprompts: integer(0, 100).nullable().optional(),
  fallback_subflow_id: idSchema.nullable().optional(),
});
export const messageUpdateSchema = messageCreateSchema.partial();

/** `{ids: [...]}`: the new order of a parent's active children, first to last. */
export const reorderSchema = z.object({
  ids: z
    .array(idSchema, { error: typeError('a list of ids') })
    .min(1, 'must list at least one id')
    .max(1000, 'must hold at most 1000 ids')
    .refine((ids) => new Set(ids).size === ids.length, 'must not repeat an id'),
});

export type TemplateCreate = z.output<typeof templateCreateSchema>;
export type TemplateUpdate = z.output<typeof templateUpdateSchema>;
export type FlowCreate = z.output<typeof flowCreateSchema>;
export type FlowUpdate = z.output<typeof flowUpdateSchema>;
export type SubflowCreate = z.output<typeof subflowCreateSchema>;
export type SubflowUpdate = z.output<typeof subflowUpdateSchema>;
export type MessageCreate = z.output<typeof messageCreateSchema>;
export type MessageUpdate = z.output<typeof messageUpdateSchema>;
export type Reorder = z.output<typeof reorderSchema>;
