import type { BusinessHours } from './business-hours.js';

export type FileInput = {
  name: string;
  mimeType: string | null;
  url: string | null;
  path: string | null;
};

/** One inbound WhatsApp message; `at` and `cooldownMs` come from the runtime so the core stays clock-free. */
export type UserInput = {
  type: 'USER_INPUT';
  text: string;
  file: FileInput | null;
  /** epoch ms */
  at: number;
  cooldownMs: number;
  /** BUSINESS_HOURS at the time of the input (SPEC §10); absent or null: always open. */
  businessHours?: BusinessHours | null;
};

/**
 * A durable timer coming due (machines/timers.ts): the delayed event xstate asked for
 * (`xstate.after.<ms>.<state id>`), with the instant it fired for the guards.
 */
export type TimerEvent = {
  type: string;
  at: number;
  cooldownMs: number;
  businessHours?: BusinessHours | null;
};

export type Contact = { id: number; name: string; number: string };

export type ConversationContext = {
  contact: Contact;
  variables: Record<string, string>;
  /** epoch ms of the last re-prompt at the current position; null once the position changes */
  lastRepromptAt: number | null;
  /** SPEC §10: re-prompts in a row at the current position; absent in snapshots saved before it. */
  repromptCount?: number;
};

export type ConversationInput = { contact: Contact; variables?: Record<string, string> };
