import { z } from 'zod';
import { botStatuses, minConversationTimeoutMinutes, type Config } from '../config.js';
import { businessHoursSchema } from '../../machines/business-hours.js';
import { timeZoneSchema } from '../shared/time-zone.js';

export type SettingType = 'string' | 'boolean' | 'number' | 'json';

interface SettingDefinition<T> {
  readonly type: SettingType;
  readonly description: string;
  readonly schema: z.ZodType<T>;
}

const define = <T>(type: SettingType, description: string, schema: z.ZodType<T>) =>
  ({ type, description, schema }) satisfies SettingDefinition<T>;

/** Every setting an admin may change; the environment gives each one's default. */
export const settingDefinitions = {
  BOT_ENABLED: define('boolean', 'Master switch: when off, the webhook answers "bot disabled"', z.boolean()),
  BOT_STATUS: define('string', 'active, paused or maintenance; only active answers contacts', z.enum(botStatuses)),
  TEST_MODE: define('boolean', 'When on, only TEST_CONTACT_ID is answered', z.boolean()),
  TEST_CONTACT_ID: define('string', 'The one contact answered in test mode', z.string().max(64)),
  DEBOUNCE_TIME: define('number', 'Milliseconds of quiet before a burst of messages is answered', z.number().int().min(0).max(600_000)),
  MESSAGE_COOLDOWN: define('number', 'Minimum seconds between two replies to one contact', z.number().int().min(0).max(3600)),
  // Fractional minutes are allowed (0.05 = 3 s), as for every *_MINUTES setting.
  CONVERSATION_TIMEOUT_MINUTES: define(
    'number',
    'Idle minutes after which a conversation is closed (fractions allowed)',
    z.number().min(minConversationTimeoutMinutes).max(525_600),
  ),
  BOT_SKIP_ASSIGNED_TICKETS: define('boolean', 'Leave tickets assigned to a human agent alone', z.boolean()),
  TIMEZONE: define('string', 'IANA time zone in which analytics count days (e.g. America/Sao_Paulo, UTC)', timeZoneSchema),
  // SPEC §10.
  BUSINESS_HOURS: define(
    'json',
    'Business hours: {"timezone": "America/Sao_Paulo", "week": {"mon": [["08:00","18:00"]], ...}, "holidays": ["2026-12-25"]}; null: always open',
    businessHoursSchema.nullable(),
  ),
  HANDOFF_RESUME_MINUTES: define(
    'number',
    'Minutes of agent silence after which a handed-off conversation ends and the bot answers again (fractions allowed)',
    z.number().min(minConversationTimeoutMinutes).max(525_600),
  ),
  INSPECT_SHOW_TEXT: define('boolean', 'Show message texts and saved variables to live inspection (/inspect); off: left out', z.boolean()),
} as const;

export type SettingKey = keyof typeof settingDefinitions;
export type EffectiveSettings = { -readonly [K in SettingKey]: z.infer<(typeof settingDefinitions)[K]['schema']> };
export const settingKeys = Object.keys(settingDefinitions) as SettingKey[];

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(settingDefinitions, key);
}

export function defaultSettings(config: Config): EffectiveSettings {
  return { ...config.settingsDefaults };
}

/** Stored text → typed value; `undefined` when the stored text no longer fits its type. */
export function decodeStoredValue(type: SettingType, text: string): unknown {
  switch (type) {
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : undefined;
    case 'number': {
      const value = Number(text);
      return text.trim() !== '' && Number.isFinite(value) ? value : undefined;
    }
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return undefined;
      }
    case 'string':
      return text;
  }
}

export function encodeValue(type: SettingType, value: unknown): string {
  return type === 'json' ? JSON.stringify(value) : String(value);
}

/**
 * Accepts what the front end sends (a boolean or "true", a number or "5") and returns the typed
 * value, or a list of problems naming the field.
 */
export function parseSettingValue(
  key: SettingKey,
  value: unknown,
  declaredType: SettingType | undefined,
): { ok: true; value: EffectiveSettings[SettingKey] } | { ok: false; errors: string[] } {
  const definition = settingDefinitions[key];
  if (declaredType !== undefined && declaredType !== definition.type) {
    return { ok: false, errors: [`type: ${key} is a ${definition.type} setting, not ${declaredType}`] };
  }
  let candidate = value;
  if (typeof value === 'string' && definition.type === 'boolean') {
    candidate = value === 'true' ? true : value === 'false' ? false : value;
  }
  if (typeof value === 'string' && definition.type === 'number' && value.trim() !== '') {
    candidate = Number(value);
  }
  const parsed = definition.schema.safeParse(candidate);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => `value${issue.path.map((part) => `.${String(part)}`).join('')}: ${issue.message}`),
    };
  }
  return { ok: true, value: parsed.data as EffectiveSettings[SettingKey] };
}
