import path from 'node:path';
import { z } from 'zod';
import { businessHoursSchema, type BusinessHours } from '../machines/business-hours.js';
import { DEFAULT_TIME_ZONE, timeZoneSchema } from './shared/time-zone.js';

// Environment variables arrive as strings; these helpers keep the schema readable and make
// "yes"/"1"/"true" all mean true, because operators write booleans all three ways.
const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
    message: 'must be true or false',
  })
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));
const decimalFromEnv = (min: number, max: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .refine(Number.isFinite, 'must be a number')
    .refine((value) => value >= min, `must be at least ${min}`)
    .refine((value) => value <= max, `must be at most ${max}`);
const integerFromEnv = (min: number, max: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
const optionalText = z
  .string()
  .transform((value) => (value.trim() === '' ? undefined : value))
  .optional();
const optionalUrl = z
  .string()
  .transform((value) => (value.trim() === '' ? undefined : value))
  .pipe(z.url({ message: 'must be a URL' }).optional())
  .optional();

export const botStatuses = ['active', 'paused', 'maintenance'] as const;
export type BotStatus = (typeof botStatuses)[number];
export const roles = ['web', 'worker', 'both'] as const;
export type Role = (typeof roles)[number];
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];
/** The shortest idle time CONVERSATION_TIMEOUT_MINUTES accepts (0.01 min = 0.6 s, for tests). */
export const minConversationTimeoutMinutes = 0.01;

const environmentSchema = z.object({
  NODE_ENV: z.string().optional(),
  ENVIRONMENT: z.string().optional(),
  PORT: integerFromEnv(0, 65535).default(8000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: optionalUrl,
  REDIS_URL: optionalUrl,
  DATA_DIR: z.string().default('.data'),
  ROLE: z.enum(roles).default('both'),
  LOG_LEVEL: z.enum(logLevels, { message: `must be one of ${logLevels.join(', ')}` }).default('info'),
  BOT_ENABLED: booleanFromEnv.default(true),
  BOT_STATUS: z.enum(botStatuses).default('active'),
  TEST_MODE: booleanFromEnv.default(false),
  TEST_CONTACT_ID: optionalText,
  DEBOUNCE_TIME: integerFromEnv(0, 600_000).default(2000),
  MESSAGE_COOLDOWN: integerFromEnv(0, 3600).default(5),
  // Fractions are fine (0.05 = 3 s): SPEC §10 says every *_MINUTES setting takes them.
  CONVERSATION_TIMEOUT_MINUTES: decimalFromEnv(minConversationTimeoutMinutes, 525_600).default(1440),
  BOT_SKIP_ASSIGNED_TICKETS: booleanFromEnv.default(true),
  TIMEZONE: optionalText.pipe(timeZoneSchema.optional()),
  // SPEC §10: JSON {timezone, week, holidays}; unset means always open.
  BUSINESS_HOURS: optionalText.pipe(
    z
      .string()
      .transform((text, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be JSON' });
          return z.NEVER;
        }
      })
      .pipe(businessHoursSchema)
      .optional(),
  ),
  HANDOFF_RESUME_MINUTES: decimalFromEnv(minConversationTimeoutMinutes, 525_600).default(240),
  INSPECT_SHOW_TEXT: booleanFromEnv.default(false),
  GOSAC_BASE_URL: optionalUrl,
  GOSAC_AUTHORIZATION_KEY: optionalText,
  GOSAC_INTEGRATION: optionalText,
  GOSAC_SEND_MODE: z.enum(['ticket', 'contact']).default('ticket'),
  GOSAC_TIMEOUT_MS: integerFromEnv(100, 120_000).default(10_000),
  PONTTA_AUTH_URL: optionalUrl,
  PONTTA_BASE_URL: optionalUrl,
  PONTTA_BUSINESS_UNIT: optionalText,
  PONTTA_EMAIL: optionalText,
  PONTTA_PASSWORD: optionalText,
  GOOGLE_CLIENT_EMAIL: optionalText,
  GOOGLE_PRIVATE_KEY: optionalText,
  GOOGLE_TOKEN_URI: optionalUrl,
  GOOGLE_SHEET_ID: optionalText,
  GOOGLE_DRIVE_FOLDER_ID: optionalText,
  GOOGLE_API_ROOT_URL: optionalUrl,
  FILES_DIR: optionalText,
  MAX_FILE_MB: decimalFromEnv(0.001, 10_000).default(50),
  ACTION_MAX_ATTEMPTS: integerFromEnv(1, 100).default(8),
  ACTION_RETRY_BASE_MS: integerFromEnv(10, 600_000).default(2000),
  ACTION_TIMEOUT_MS: integerFromEnv(100, 600_000).default(30_000),
  ACTION_CONCURRENCY: integerFromEnv(1, 256).default(16),
  ACTION_LEASE_MS: integerFromEnv(500, 3_600_000).default(120_000),
  ADMIN_API_TOKEN: optionalText,
  WEBHOOK_SECRET: optionalText,
  ALLOWED_ORIGINS: optionalText,
  WORKER_POLL_INTERVAL_MS: integerFromEnv(50, 60_000).default(1000),
  STEP_BATCH_SIZE: integerFromEnv(1, 1_000).default(64),
  STEP_CONCURRENCY: integerFromEnv(1, 16).default(2),
  SEND_CONCURRENCY: integerFromEnv(1, 2_000).default(512),
  SHUTDOWN_TIMEOUT: integerFromEnv(1, 600).default(10),
  // Unset: the demo flow outside production only; DEMO_FLOW=true asks for it in production too.
  DEMO_FLOW: booleanFromEnv.optional(),
  RATE_LIMIT_PER_MINUTE: integerFromEnv(0, 1_000_000).default(1200),
  RATE_LIMIT_WEBHOOK_PER_MINUTE: integerFromEnv(0, 1_000_000).default(0),
  TRUST_PROXY: booleanFromEnv.default(false),
});

export type Environment = z.infer<typeof environmentSchema>;
/** Every variable the configuration reads. */
export const configVariableNames = Object.keys(environmentSchema.shape) as Array<keyof Environment>;

export interface Config {
  readonly production: boolean;
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  readonly dataDir: string;
  readonly role: Role;
  readonly logLevel: Environment['LOG_LEVEL'];
  readonly adminApiToken: string | undefined;
  readonly webhookSecret: string | undefined;
  readonly allowedOrigins: readonly string[];
  readonly createDemoFlow: boolean;
  /** Requests per client address per minute; 0 turns the limit off. */
  readonly rateLimit: { readonly apiPerMinute: number; readonly webhookPerMinute: number };
  /** Take the client address from X-Forwarded-For (only behind a proxy that sets it). */
  readonly trustProxy: boolean;
  /** Defaults for the settings an admin can override in `system_settings`. */
  readonly settingsDefaults: {
    readonly BOT_ENABLED: boolean;
    readonly BOT_STATUS: BotStatus;
    readonly TEST_MODE: boolean;
    readonly TEST_CONTACT_ID: string;
    readonly DEBOUNCE_TIME: number;
    readonly MESSAGE_COOLDOWN: number;
    readonly CONVERSATION_TIMEOUT_MINUTES: number;
    readonly BOT_SKIP_ASSIGNED_TICKETS: boolean;
    readonly TIMEZONE: string;
    readonly BUSINESS_HOURS: BusinessHours | null;
    readonly HANDOFF_RESUME_MINUTES: number;
    readonly INSPECT_SHOW_TEXT: boolean;
  };
  readonly gosac: {
    readonly baseUrl: string | undefined;
    readonly authorizationKey: string | undefined;
    readonly integration: string | undefined;
    readonly sendMode: 'ticket' | 'contact';
    readonly timeoutMs: number;
  };
  readonly worker: {
    /** Longest sleep of the worker's loops when no notification came. */
    readonly pollIntervalMs: number;
    /** Contacts one step transaction claims at most. */
    readonly stepBatchSize: number;
    /** Step batches one process runs at once. */
    readonly stepConcurrency: number;
    /** GOSAC calls one process keeps in flight at most. */
    readonly sendConcurrency: number;
  };
  readonly shutdownTimeoutMs: number;
  /** SPEC §8: received files (FILES_DIR, MAX_FILE_MB). */
  readonly files: { readonly dir: string; readonly maxBytes: number };
  /** SPEC §8: the action executor. */
  readonly actions: {
    readonly maxAttempts: number;
    readonly retryBaseMs: number;
    readonly timeoutMs: number;
    readonly concurrency: number;
    /** How long a claimed run is a worker's; after that another worker may repeat it (once). */
    readonly leaseMs: number;
  };
  readonly pontta: {
    readonly authUrl: string | undefined;
    readonly baseUrl: string | undefined;
    readonly businessUnit: string | undefined;
    readonly email: string | undefined;
    readonly password: string | undefined;
  };
  readonly google: {
    readonly clientEmail: string | undefined;
    readonly privateKey: string | undefined;
    readonly tokenUri: string | undefined;
    readonly apiRootUrl: string | undefined;
    readonly sheetId: string | undefined;
    readonly driveFolderId: string | undefined;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    // One line, so a log shows the whole reason in one record.
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * An empty variable (`PORT=` in a .env file or a compose file) means "not set": the default, never
 * 0 or "". Every variable is treated so.
 */
function withoutEmptyValues(env: NodeJS.ProcessEnv): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') kept[name] = value;
  }
  return kept;
}

/** Production when either NODE_ENV or ENVIRONMENT says so (one saying it is enough). */
export function isProduction(env: NodeJS.ProcessEnv): boolean {
  return [env.NODE_ENV, env.ENVIRONMENT].some((value) => value?.trim().toLowerCase() === 'production');
}

/** LOG_LEVEL when it is a valid level, else `info`: for the logger that reports a bad configuration. */
export function bootLogLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const level = env.LOG_LEVEL?.trim();
  return (logLevels as readonly string[]).includes(level ?? '') ? (level as LogLevel) : 'info';
}

/** Reads and validates the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(rawEnv: NodeJS.ProcessEnv = process.env): Config {
  const env = withoutEmptyValues(rawEnv);
  const production = isProduction(env);
  const parsed = environmentSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
  if (production) {
    for (const name of ['DATABASE_URL', 'ADMIN_API_TOKEN'] as const) {
      if (!env[name]) problems.push(`${name}: required in production`);
    }
  }
  if (env.GOSAC_AUTHORIZATION_KEY && !env.GOSAC_BASE_URL) {
    problems.push('GOSAC_BASE_URL: required when GOSAC_AUTHORIZATION_KEY is set');
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  return Object.freeze({
    production,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    dataDir: e.DATA_DIR,
    role: e.ROLE,
    logLevel: e.LOG_LEVEL,
    adminApiToken: e.ADMIN_API_TOKEN,
    webhookSecret: e.WEBHOOK_SECRET,
    allowedOrigins: (e.ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    createDemoFlow: e.DEMO_FLOW ?? !production,
    rateLimit: Object.freeze({ apiPerMinute: e.RATE_LIMIT_PER_MINUTE, webhookPerMinute: e.RATE_LIMIT_WEBHOOK_PER_MINUTE }),
    trustProxy: e.TRUST_PROXY,
    settingsDefaults: Object.freeze({
      BOT_ENABLED: e.BOT_ENABLED,
      BOT_STATUS: e.BOT_STATUS,
      TEST_MODE: e.TEST_MODE,
      TEST_CONTACT_ID: e.TEST_CONTACT_ID ?? '',
      DEBOUNCE_TIME: e.DEBOUNCE_TIME,
      MESSAGE_COOLDOWN: e.MESSAGE_COOLDOWN,
      CONVERSATION_TIMEOUT_MINUTES: e.CONVERSATION_TIMEOUT_MINUTES,
      BOT_SKIP_ASSIGNED_TICKETS: e.BOT_SKIP_ASSIGNED_TICKETS,
      TIMEZONE: e.TIMEZONE ?? DEFAULT_TIME_ZONE,
      BUSINESS_HOURS: e.BUSINESS_HOURS ?? null,
      HANDOFF_RESUME_MINUTES: e.HANDOFF_RESUME_MINUTES,
      INSPECT_SHOW_TEXT: e.INSPECT_SHOW_TEXT,
    }),
    gosac: Object.freeze({
      baseUrl: e.GOSAC_BASE_URL,
      authorizationKey: e.GOSAC_AUTHORIZATION_KEY,
      integration: e.GOSAC_INTEGRATION,
      sendMode: e.GOSAC_SEND_MODE,
      timeoutMs: e.GOSAC_TIMEOUT_MS,
    }),
    worker: Object.freeze({
      pollIntervalMs: e.WORKER_POLL_INTERVAL_MS,
      stepBatchSize: e.STEP_BATCH_SIZE,
      stepConcurrency: e.STEP_CONCURRENCY,
      sendConcurrency: e.SEND_CONCURRENCY,
    }),
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT * 1000,
    files: Object.freeze({
      dir: e.FILES_DIR ?? path.join(e.DATA_DIR, 'files'),
      maxBytes: Math.round(e.MAX_FILE_MB * 1024 * 1024),
    }),
    actions: Object.freeze({
      maxAttempts: e.ACTION_MAX_ATTEMPTS,
      retryBaseMs: e.ACTION_RETRY_BASE_MS,
      timeoutMs: e.ACTION_TIMEOUT_MS,
      concurrency: e.ACTION_CONCURRENCY,
      leaseMs: e.ACTION_LEASE_MS,
    }),
    pontta: Object.freeze({
      authUrl: e.PONTTA_AUTH_URL,
      baseUrl: e.PONTTA_BASE_URL,
      businessUnit: e.PONTTA_BUSINESS_UNIT,
      email: e.PONTTA_EMAIL,
      password: e.PONTTA_PASSWORD,
    }),
    google: Object.freeze({
      clientEmail: e.GOOGLE_CLIENT_EMAIL,
      // .env files often hold the key on one line with literal \n.
      privateKey: e.GOOGLE_PRIVATE_KEY?.replace(/\\n/g, '\n'),
      tokenUri: e.GOOGLE_TOKEN_URI,
      apiRootUrl: e.GOOGLE_API_ROOT_URL,
      sheetId: e.GOOGLE_SHEET_ID,
      driveFolderId: e.GOOGLE_DRIVE_FOLDER_ID,
    }),
  });
}
