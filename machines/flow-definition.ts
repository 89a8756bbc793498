import { z } from 'zod';
import { flowActionsSchema } from './actions.js';

// Defaults mirror the database column defaults, so rows can be passed in as loaded.
export const messageDefinitionSchema = z.object({
  id: z.number().int(),
  text: z.string(),
  type: z.string().default('text'),
  orderIndex: z.number().int().default(0),
  waitForResponse: z.boolean().default(true),
  waitForFile: z.boolean().default(false),
  expectedFileTypes: z.array(z.string()).default([]),
  delaySeconds: z.number().nonnegative().default(0),
  saveResponseAs: z.string().nullable().default(null),
  // SPEC §10 (machines/attendant.ts): minutes may be fractional; null or absent means "none".
  // Optional, so definitions written before them (stored versions, tests) keep their shape and hash.
  reminderAfterMinutes: z.number().positive().nullable().optional(),
  reminderText: z.string().nullable().optional(),
  maxReprompts: z.number().int().nonnegative().nullable().optional(),
  fallbackSubflowId: z.number().int().nullable().optional(),
  /** SPEC §8: run in order when the conversation reaches the message, before its text is sent. */
  // Optional so definitions written before actions existed stay valid: absent means none.
  actions: flowActionsSchema.optional(),
});

export const subflowDefinitionSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  orderIndex: z.number().int().default(0),
  parentSubflowId: z.number().int().nullable().default(null),
  triggerKeywords: z.array(z.string()).default([]),
  // SPEC §10: entered outside business hours it gives way to the out-of-hours subflow; a hand-off
  // subflow pauses the conversation at its last message.
  businessHoursOnly: z.boolean().optional(),
  outOfHoursSubflowId: z.number().int().nullable().optional(),
  handoff: z.boolean().optional(),
  messages: z.array(messageDefinitionSchema).default([]),
});

export const flowDefinitionSchema = z.object({
  flowId: z.number().int(),
  name: z.string(),
  subflows: z.array(subflowDefinitionSchema),
  // SPEC §10: a conversation silent this long is closed with `closeText` sent.
  closeAfterMinutes: z.number().positive().nullable().optional(),
  closeText: z.string().nullable().optional(),
});

export type MessageDefinition = z.output<typeof messageDefinitionSchema>;
export type SubflowDefinition = z.output<typeof subflowDefinitionSchema>;
export type FlowDefinition = z.output<typeof flowDefinitionSchema>;
