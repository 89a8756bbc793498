import type { CoreDeps } from '../../src/app-deps.js';
import { loadConfig } from '../../src/config.js';
import { createSettingsService } from '../../src/settings/settings-service.js';
import { defaultSettings } from '../../src/settings/setting-definitions.js';
import { createLogger } from '../../src/shared/logger.js';
import { createInProcessSharedState } from '../../src/shared/shared-state.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

/** The core dependencies around a fresh database, for tests of one service or router. */
export async function buildTestDeps(
  env: Record<string, string> = {},
): Promise<CoreDeps & { testDb: TestDatabase }> {
  const testDb = await createTestDatabase();
  const config = loadConfig({
    ADMIN_API_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    DEBOUNCE_TIME: '0',
    MESSAGE_COOLDOWN: '0',
    DATABASE_URL: testDb.url,
    ...env,
  });
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const sharedState = createInProcessSharedState();
  const settings = createSettingsService({
    db: testDb.db,
    defaults: defaultSettings(config),
    sharedState,
    logger,
    cacheTtlMs: 1_000,
  });
  await settings.start();
  return { config, db: testDb.db, databaseUrl: testDb.url, logger, sharedState, settings, testDb };
}
