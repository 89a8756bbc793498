import { setImmediate } from 'node:timers/promises';
import type { Database } from '../db/knex.js';
import { ValidationError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { SharedState } from '../shared/shared-state.js';
import {
  decodeStoredValue,
  encodeValue,
  isSettingKey,
  parseSettingValue,
  settingDefinitions,
  settingKeys,
  type EffectiveSettings,
  type SettingKey,
  type SettingType,
} from './setting-definitions.js';

export const SETTINGS_CHANNEL = 'flowbot:settings-changed';

export interface SettingView {
  value: unknown;
  type: SettingType;
  description: string;
  source: 'database' | 'environment';
}

export interface SettingsService {
  /** The settings in force: database values over environment defaults. Cached, cheap. */
  current(): Promise<EffectiveSettings>;
  list(): Promise<Record<SettingKey, SettingView>>;
  update(
    key: string,
    change: { value: unknown; type?: SettingType; description?: string },
    actor: string,
  ): Promise<void>;
  start(): Promise<void>;
}

interface Deps {
  readonly db: Database;
  readonly defaults: EffectiveSettings;
  readonly sharedState: SharedState;
  readonly logger: Logger;
  /**
   * How long a cached copy is trusted without a change notification. Notifications make changes
   * visible at once; the TTL bounds staleness when they cannot arrive (no Redis, or Redis down),
   * so it may be a function asked on every read.
   */
  readonly cacheTtlMs: number | (() => number);
}

interface StoredSetting {
  key: string;
  value: string;
  type: SettingType;
  description: string | null;
}

export function createSettingsService(deps: Deps): SettingsService {
  let cached: { settings: EffectiveSettings; stored: Map<string, StoredSetting>; at: number } | undefined;
  let loading: Promise<NonNullable<typeof cached>> | undefined;
  let generation = 0;

  async function load(): Promise<NonNullable<typeof cached>> {
    const startedGeneration = generation;
    const rows = (await deps.db('system_settings').select(
      'key',
      'value',
      'type',
      'description',
    )) as StoredSetting[];
    const stored = new Map(rows.map((row) => [row.key, row]));
    const settings: EffectiveSettings = { ...deps.defaults };
    for (const key of settingKeys) {
      const row = stored.get(key);
      if (!row) continue;
      const decoded = decodeStoredValue(row.type, row.value);
      const parsed = parseSettingValue(key, decoded, undefined);
      if (parsed.ok) Object.assign(settings, { [key]: parsed.value });
      else deps.logger.warn({ key }, 'stored setting does not fit its type; using the default');
    }
    const fresh = { settings, stored, at: Date.now() };
    // A notification that arrived while we were reading means our read may be stale.
    if (startedGeneration === generation) cached = fresh;
    return fresh;
  }

  async function snapshot(): Promise<NonNullable<typeof cached>> {
    // A change made on another replica is announced through Redis before that replica answers
    // its admin request, so its notification is already in our socket when any later webhook
    // is; but a busy event loop may hand us the webhook first, in the same turn. One turn of the
    // loop lets the notification in first: "the very next webhook" obeys the change (issue 3).
    if (deps.sharedState.kind === 'redis') await setImmediate();
    const ttl = typeof deps.cacheTtlMs === 'function' ? deps.cacheTtlMs() : deps.cacheTtlMs;
    if (cached && Date.now() - cached.at < ttl) return cached;
    if (loading) return loading;
    const started = load().finally(() => {
      if (loading === started) loading = undefined;
    });
    loading = started;
    return started;
  }

  function invalidate(): void {
    generation += 1;
    cached = undefined;
    // A read begun before the change may have seen the old row: later callers must not share it.
    loading = undefined;
  }

  return {
    async current() {
      return (await snapshot()).settings;
    },

    async list() {
      const { settings, stored } = await snapshot();
      const views = {} as Record<SettingKey, SettingView>;
      for (const key of settingKeys) {
        const row = stored.get(key);
        views[key] = {
          value: settings[key],
          type: settingDefinitions[key].type,
          description: row?.description ?? settingDefinitions[key].description,
          source: row ? 'database' : 'environment',
        };
      }
      return views;
    },

    async update(key, change, actor) {
      if (!isSettingKey(key)) {
        throw new ValidationError(`key: unknown setting ${key}; known settings: ${settingKeys.join(', ')}`);
      }
      const parsed = parseSettingValue(key, change.value, change.type);
      if (!parsed.ok) throw new ValidationError(parsed.errors);
      const type = settingDefinitions[key].type;
      await deps.db.transaction(async (trx) => {
        const before = await trx('system_settings').where({ key }).first();
        const row = {
          key,
          value: encodeValue(type, parsed.value),
          type,
          description: change.description ?? before?.description ?? settingDefinitions[key].description,
          updated_by: actor,
          updated_at: trx.fn.now(),
        };
        await trx('system_settings').insert(row).onConflict('key').merge();
        await trx('activity_logs').insert({
          actor,
          action: 'setting.updated',
          details: { key },
          before: before ? { value: before.value } : null,
          after: { value: row.value },
        });
      });
      invalidate();
      await deps.sharedState.publish(SETTINGS_CHANNEL, key).catch((error: unknown) => {
        deps.logger.warn({ err: String(error) }, 'could not announce a settings change; other replicas see it within the cache TTL');
      });
    },

    async start() {
      await deps.sharedState.subscribe(SETTINGS_CHANNEL, () => invalidate());
      // Notifications sent while we were cut off from Redis are lost: start from the database again.
      deps.sharedState.onReconnect?.(() => invalidate());
    },
  };
}
