// The settings cache against a change that lands while a read of the table is still in flight:
// the read may have seen the old row, so whoever asks after the change must not be handed it.
// The database is a stand-in whose reads the test answers by hand, to hold that read open.
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/knex.js';
import { createSettingsService, SETTINGS_CHANNEL } from '../../src/settings/settings-service.js';
import { defaultSettings } from '../../src/settings/setting-definitions.js';
import { createLogger } from '../../src/shared/logger.js';
import { createInProcessSharedState } from '../../src/shared/shared-state.js';

interface PendingRead {
  answer(botEnabled: boolean): void;
}

function handAnsweredDatabase(): { db: Database; reads: PendingRead[] } {
  const reads: PendingRead[] = [];
  const table = () => ({
    select: () =>
      new Promise((resolve) => {
        reads.push({
          answer: (botEnabled) =>
            resolve([{ key: 'BOT_ENABLED', value: String(botEnabled), type: 'boolean', description: null }]),
        });
      }),
  });
  return { db: table as unknown as Database, reads };
}

async function untilReads(reads: PendingRead[], count: number): Promise<void> {
  for (let turn = 0; turn < 100 && reads.length < count; turn += 1) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(reads).to.have.length(count, 'reads of system_settings');
}

describe('settings cache', () => {
  async function service() {
    const { db, reads } = handAnsweredDatabase();
    const sharedState = createInProcessSharedState();
    const settings = createSettingsService({
      db,
      defaults: defaultSettings(loadConfig({ ADMIN_API_TOKEN: 'test-admin-token-0123456789' })),
      sharedState,
      logger: createLogger('silent'),
      cacheTtlMs: 60_000,
    });
    await settings.start();
    return { settings, reads, announceChange: () => sharedState.publish(SETTINGS_CHANNEL, 'BOT_ENABLED') };
  }

  it('reads again for a caller who asks after a change, instead of sharing a read begun before it', async () => {
    const { settings, reads, announceChange } = await service();
    const beforeChange = settings.current();
    await untilReads(reads, 1);

    await announceChange();
    const afterChange = settings.current();
    await untilReads(reads, 2);

    reads[0]!.answer(false);
    reads[1]!.answer(true);
    expect((await beforeChange).BOT_ENABLED).to.equal(false);
    expect((await afterChange).BOT_ENABLED).to.equal(true);
    // And the stale read did not land in the cache: the next caller gets the fresh value, unread.
    expect((await settings.current()).BOT_ENABLED).to.equal(true);
    expect(reads).to.have.length(2);
  });

  it('shares one read among callers who ask while it is in flight, and caches it', async () => {
    const { settings, reads } = await service();
    const first = settings.current();
    const second = settings.current();
    await untilReads(reads, 1);
    reads[0]!.answer(false);
    expect((await first).BOT_ENABLED).to.equal(false);
    expect((await second).BOT_ENABLED).to.equal(false);
    expect((await settings.current()).BOT_ENABLED).to.equal(false);
    expect(reads).to.have.length(1);
  });
});
