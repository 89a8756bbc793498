// The settings cache against changes made by another replica: a change commits, bumps the
// settings version, then answers, so whoever asks afterwards must be handed the new value, never a
// read of the table or of the version begun before the change. The database and the version reads
// are stand-ins the test answers by hand, to hold each read open as long as it likes.
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/knex.js';
import { createSettingsService, SETTINGS_VERSION_KEY } from '../../src/settings/settings-service.js';
import { defaultSettings } from '../../src/settings/setting-definitions.js';
import { createLogger } from '../../src/shared/logger.js';
import { createInProcessSharedState, type SharedState } from '../../src/shared/shared-state.js';

interface HeldRead<T> {
  answer(value: T): void;
}

function handAnsweredDatabase(): { db: Database; reads: Array<HeldRead<boolean>> } {
  const reads: Array<HeldRead<boolean>> = [];
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

/** Redis as the settings see it, with each version read held until the test answers it. */
function handAnsweredRedis(): { sharedState: SharedState; versionReads: Array<HeldRead<number | undefined>> } {
  const versionReads: Array<HeldRead<number | undefined>> = [];
  const sharedState: SharedState = {
    ...createInProcessSharedState(),
    kind: 'redis',
    readVersion: () => new Promise((resolve) => versionReads.push({ answer: resolve })),
  };
  return { sharedState, versionReads };
}

async function until(what: string, done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 100 && !done(); turn += 1) await new Promise((resolve) => setImmediate(resolve));
  expect(done(), what).to.equal(true);
}

function service(db: Database, sharedState: SharedState) {
  return createSettingsService({
    db,
    defaults: defaultSettings(loadConfig({ ADMIN_API_TOKEN: 'test-admin-token-0123456789' })),
    sharedState,
    logger: createLogger('silent'),
    cacheTtlMs: 60_000,
  });
}

describe('settings cache', () => {
  it('reads the table again for a caller who asks after a change, instead of sharing a read begun before it', async () => {
    const { db, reads } = handAnsweredDatabase();
    const sharedState = createInProcessSharedState();
    const settings = service(db, sharedState);
    await settings.start();
    const beforeChange = settings.current();
    await until('first read of the table', () => reads.length === 1);

    await sharedState.bumpVersion(SETTINGS_VERSION_KEY); // another replica's change
    const afterChange = settings.current();
    await until('second read of the table', () => reads.length === 2);

    reads[0]!.answer(false);
    reads[1]!.answer(true);
    expect((await beforeChange).BOT_ENABLED).to.equal(false);
    expect((await afterChange).BOT_ENABLED).to.equal(true);
    // And the read begun before the change is not what the cache now hands out.
    expect((await settings.current()).BOT_ENABLED).to.equal(true);
    expect(reads).to.have.length(2);
  });

  it('keeps the later read in the cache when an earlier one ends after it', async () => {
    const { db, reads } = handAnsweredDatabase();
    const sharedState = createInProcessSharedState();
    const settings = service(db, sharedState);
    const beforeChange = settings.current();
    await until('first read', () => reads.length === 1);
    await sharedState.bumpVersion(SETTINGS_VERSION_KEY);
    const afterChange = settings.current();
    await until('second read', () => reads.length === 2);

    reads[1]!.answer(true);
    expect((await afterChange).BOT_ENABLED).to.equal(true);
    reads[0]!.answer(false);
    await beforeChange;
    expect((await settings.current()).BOT_ENABLED).to.equal(true);
    expect(reads).to.have.length(2);
  });

  it('shares one read among callers who ask while it is in flight, and caches it until the version moves', async () => {
    const { db, reads } = handAnsweredDatabase();
    const sharedState = createInProcessSharedState();
    const settings = service(db, sharedState);
    const first = settings.current();
    const second = settings.current();
    await until('one read', () => reads.length === 1);
    reads[0]!.answer(false);
    expect((await first).BOT_ENABLED).to.equal(false);
    expect((await second).BOT_ENABLED).to.equal(false);
    expect((await settings.current()).BOT_ENABLED).to.equal(false);
    expect(reads).to.have.length(1);

    await sharedState.bumpVersion(SETTINGS_VERSION_KEY);
    const changed = settings.current();
    await until('a read after the change', () => reads.length === 2);
    reads[1]!.answer(true);
    expect((await changed).BOT_ENABLED).to.equal(true);
  });

  it('with Redis, lets callers share a version read only if it was sent after they asked', async () => {
    const { db, reads } = handAnsweredDatabase();
    const { sharedState, versionReads } = handAnsweredRedis();
    const settings = service(db, sharedState);

    const early = [settings.current(), settings.current()];
    await until('one version read for both callers', () => versionReads.length === 1);
    const late = settings.current(); // arrives while that read is out: it may predate a change
    for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(versionReads, 'no read for the late caller while one is out').to.have.length(1);

    versionReads[0]!.answer(4);
    await until('the table read for version 4', () => reads.length === 1);
    reads[0]!.answer(false);
    for (const answer of early) expect((await answer).BOT_ENABLED).to.equal(false);

    await until("the late caller's own version read", () => versionReads.length === 2);
    versionReads[1]!.answer(5); // a change landed in between
    await until('the table read again for version 5', () => reads.length === 2);
    reads[1]!.answer(true);
    expect((await late).BOT_ENABLED).to.equal(true);

    // Same version: the copy is used, with no read of the table.
    const again = settings.current();
    await until('a third version read', () => versionReads.length === 3);
    versionReads[2]!.answer(5);
    expect((await again).BOT_ENABLED).to.equal(true);
    expect(reads).to.have.length(2);
  });

  it('with Redis away or slow (version unknown), trusts its copy for the TTL and reads again after', async () => {
    const { db, reads } = handAnsweredDatabase();
    const { sharedState, versionReads } = handAnsweredRedis();
    let ttlMs = 60_000;
    const settings = createSettingsService({
      db,
      defaults: defaultSettings(loadConfig({ ADMIN_API_TOKEN: 'test-admin-token-0123456789' })),
      sharedState,
      logger: createLogger('silent'),
      cacheTtlMs: () => ttlMs,
    });
    const first = settings.current();
    await until('a version read', () => versionReads.length === 1);
    versionReads[0]!.answer(3);
    await until('a table read', () => reads.length === 1);
    reads[0]!.answer(false);
    await first;

    const unknown = settings.current();
    await until('a second version read', () => versionReads.length === 2);
    versionReads[1]!.answer(undefined);
    expect((await unknown).BOT_ENABLED).to.equal(false);
    expect(reads).to.have.length(1);

    ttlMs = 0;
    const expired = settings.current();
    await until('a third version read', () => versionReads.length === 3);
    versionReads[2]!.answer(undefined);
    await until('a table read once the copy is older than the TTL', () => reads.length === 2);
    reads[1]!.answer(true);
    expect((await expired).BOT_ENABLED).to.equal(true);
  });
});
