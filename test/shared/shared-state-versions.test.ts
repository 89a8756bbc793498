// The settings version counter (ADR 0015) on a real Redis: what one replica bumps, another reads,
// and a Redis that hangs costs a reader no more than its bound.
import { expect } from 'chai';
import { createRedisSharedState, type SharedState } from '../../src/shared/shared-state.js';
import { createLogger } from '../../src/shared/logger.js';
import { redisChild, redisServerAvailable, redisServerMissing, type RedisChild } from '../support/redis-server.js';
import { freePort } from '../support/service-process.js';

describe('shared version counters on Redis', function () {
  this.timeout(30_000);
  let redis: RedisChild;
  let states: SharedState[] = [];

  before(async () => {
    // Never skipped: .ci/run installs redis-server. A server of its own, since the test freezes it.
    if (!redisServerAvailable()) throw new Error(redisServerMissing);
    redis = redisChild(await freePort());
    await redis.start();
    const logger = createLogger('silent');
    states = [createRedisSharedState(redis.url, logger), createRedisSharedState(redis.url, logger)];
    for (let attempt = 0; attempt < 250 && !states.every((state) => state.connected()); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(states.every((state) => state.connected()), 'both connected to Redis').to.equal(true);
  });

  after(async () => {
    redis?.thaw();
    for (const state of states) await state.close();
    await redis?.kill();
  });

  it('reads 0 before the first bump, then what any replica bumped', async () => {
    const [one, two] = states as [SharedState, SharedState];
    expect(await two.readVersion('test:version', 1_000)).to.equal(0);
    expect(await one.bumpVersion('test:version')).to.equal(true);
    expect(await one.bumpVersion('test:version')).to.equal(true);
    expect(await two.readVersion('test:version', 1_000)).to.equal(2);
  });

  it('answers "unknown" within its bound while Redis hangs, and the value once it is back', async () => {
    const [one] = states as [SharedState];
    const before = await one.readVersion('test:version', 1_000);
    redis.freeze();
    try {
      const started = performance.now();
      expect(await one.readVersion('test:version', 100)).to.equal(undefined);
      expect(performance.now() - started, 'ms waited').to.be.below(900);
    } finally {
      redis.thaw();
    }
    let after: number | undefined;
    for (let attempt = 0; attempt < 50 && after === undefined; attempt += 1) after = await one.readVersion('test:version', 1_000);
    expect(after).to.equal(before);
  });
});
