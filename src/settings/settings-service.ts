import type { Database } from '../db/knex.js';
import { createBatcher } from '../shared/batcher.js';
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

/** Bumped by every change; a replica whose copy was read at another version reads the table again. */
export const SETTINGS_VERSION_KEY = 'flowbot:settings-version';
/** How long a caller waits for Redis to say which version is current before trusting its copy. */
const VERSION_READ_TIMEOUT_MS = 100;

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
   * How long a cached copy is trusted at an unchanged version. Version reads make changes visible
   * at once; the TTL bounds staleness when they cannot tell (no Redis, or Redis down), so it may be
   * a function asked on every read.
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
  interface Loaded {
    readonly settings: EffectiveSettings;
    readonly stored: Map<string, StoredSetting>;
    readonly at: number;
    /** The version current when the table was read; undefined when it could not be told. */
    readonly version: number | undefined;
    /** Loads are numbered as they begin: a later one saw at least as much. */
    readonly sequence: number;
  }
  let cached: Loaded | undefined;
  let loading: { readonly version: number | undefined; readonly done: Promise<Loaded> } | undefined;
  let loadsBegun = 0;
  // Bumped by this replica's own changes and by a Redis reconnect: a load begun before must not be kept.
  let generation = 0;

  async function load(version: number | undefined): Promise<Loaded> {
    const startedGeneration = generation;
    loadsBegun += 1;
    const sequence = loadsBegun;
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
    const fresh = { settings, stored, at: Date.now(), version, sequence };
    if (startedGeneration === generation && (!cached || cached.sequence < sequence)) cached = fresh;
    return fresh;
  }

  // A replica that changes a setting commits it, then bumps the version, then answers; so whoever
  // reads the version after that answer reads the new one (SPEC §5: the next webhook, on every
  // replica). Callers share a read of the version only if it was sent after they asked: the ones
  // that arrive while a read is out wait for the next.
  const versionReads = createBatcher<null, number | undefined>(
    async (callers) => {
      const version = await deps.sharedState.readVersion(SETTINGS_VERSION_KEY, VERSION_READ_TIMEOUT_MS);
      return callers.map(() => version);
    },
    { maxSize: Number.MAX_SAFE_INTEGER },
  );

  async function currentVersion(): Promise<number | undefined> {
    // In process the counter is local and read without I/O: no read to share.
    if (deps.sharedState.kind !== 'redis') return deps.sharedState.readVersion(SETTINGS_VERSION_KEY, VERSION_READ_TIMEOUT_MS);
    return versionReads.submit(null);
  }

  async function snapshot(): Promise<Loaded> {
    const version = await currentVersion();
    // Version unknown (Redis away or slow): trust a copy for the TTL, short while Redis is away.
    const fits = (seen: number | undefined) => version === undefined || seen === version;
    const ttl = typeof deps.cacheTtlMs === 'function' ? deps.cacheTtlMs() : deps.cacheTtlMs;
    if (cached && fits(cached.version) && Date.now() - cached.at < ttl) return cached;
    if (loading && fits(loading.version)) return loading.done;
    const entry = {
      version,
      done: load(version).finally(() => {
        if (loading === entry) loading = undefined;
      }),
    };
    loading = entry;
    return entry.done;
  }

  function invalidate(): void {
    generation += 1;
    cached = undefined;
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
      const announced = await deps.sharedState.bumpVersion(SETTINGS_VERSION_KEY);
      invalidate();
      if (!announced) {
        deps.logger.warn({ key }, 'could not announce a settings change; other replicas see it within the cache TTL');
      }
    },

    async start() {
      // Changes made while we were cut off from Redis bumped no version: start from the database again.
      deps.sharedState.onReconnect?.(() => invalidate());
    },
  };
}
