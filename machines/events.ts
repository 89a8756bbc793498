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
};

export type Contact = { id: number; name: string; number: string };

export type ConversationContext = {
  contact: Contact;
  variables: Record<string, string>;
  /** epoch ms of the last re-prompt at the current position; null once the position changes */
  lastRepromptAt: number | null;
};

export type ConversationInput = { contact: Contact; variables?: Record<string, string> };
