import type { Config } from './config.js';
import type { Database } from './db/knex.js';
import type { SettingsService } from './settings/settings-service.js';
import type { Logger } from './shared/logger.js';
import type { SharedState } from './shared/shared-state.js';

/**
 * What every service factory may be handed. Built once in the composition root (service.ts);
 * nothing reads globals, so tests build the same object around their own database.
 */
export interface CoreDeps {
  readonly config: Config;
  readonly db: Database;
  /** Connection string of `db`, for graphile-worker's own pool. */
  readonly databaseUrl: string;
  readonly logger: Logger;
  readonly sharedState: SharedState;
  readonly settings: SettingsService;
}
