import { z } from 'zod';

// Answer shapes shared by many routes. They only document what the handlers send (the handlers
// build these objects themselves), so they are kept loose where the rows are wide.

export const errorsSchema = z.object({ errors: z.array(z.string()).min(1) });

export const createdSchema = z.object({ id: z.int(), status: z.literal('created') });

export const statusSchema = <T extends string>(status: T) => z.object({ status: z.literal(status) });

const timestamps = { created_at: z.string(), updated_at: z.string() };

export const templateRowSchema = z.object({
  id: z.int(),
  name: z.string(),
  description: z.string().nullable(),
  created_by: z.string().nullable(),
  is_active: z.boolean(),
  ...timestamps,
});

export const flowRowSchema = z.object({
  id: z.int(),
  template_id: z.int(),
  name: z.string(),
  description: z.string().nullable(),
  is_default: z.boolean(),
  is_active: z.boolean(),
  order_index: z.int(),
  close_after_minutes: z.number().nullable().describe('SPEC §10: close a conversation silent this long (fractions allowed)'),
  close_text: z.string().nullable().describe('sent when a conversation is closed for silence'),
  ...timestamps,
});

export const subflowRowSchema = z.object({
  id: z.int(),
  flow_id: z.int(),
  name: z.string(),
  description: z.string().nullable(),
  parent_subflow_id: z.int().nullable(),
  trigger_keywords: z.array(z.string()),
  order_index: z.int(),
  business_hours_only: z.boolean().describe('SPEC §10: entered outside BUSINESS_HOURS, go to out_of_hours_subflow_id instead'),
  out_of_hours_subflow_id: z.int().nullable(),
  handoff: z.boolean().describe('SPEC §10: reaching its last message pauses the conversation for a human'),
  is_active: z.boolean(),
  ...timestamps,
});

export const messageRowSchema = z.object({
  id: z.int(),
  subflow_id: z.int(),
  message_text: z.string(),
  message_type: z.string(),
  order_index: z.int(),
  wait_for_response: z.boolean(),
  wait_for_file: z.boolean(),
  expected_file_types: z.array(z.string()),
  delay_seconds: z.number(),
  save_response_as: z.string().nullable(),
  actions: z.array(z.record(z.string(), z.unknown())).describe('SPEC §8 flow actions, run before the text is sent'),
  reminder_after_minutes: z.number().nullable().describe('SPEC §10: remind once after this much silence (fractions allowed)'),
  reminder_text: z.string().nullable().describe('the reminder (default: the message text)'),
  max_reprompts: z.int().nullable().describe('after this many re-prompts in a row the next invalid input goes to fallback_subflow_id'),
  fallback_subflow_id: z.int().nullable(),
  is_active: z.boolean(),
  ...timestamps,
});
