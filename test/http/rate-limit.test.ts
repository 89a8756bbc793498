import Router from '@koa/router';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { createExpiringCounters } from '../../src/shared/expiring-counters.js';
import { createLogger } from '../../src/shared/logger.js';
import { createRedisSharedState } from '../../src/shared/shared-state.js';
import { redisChild, redisServerAvailable, redisServerMissing, type RedisChild } from '../support/redis-server.js';
import { freePort } from '../support/service-process.js';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

function fakeWebhook(): Router {
  const router = new Router();
  router.post('/webhook', (ctx) => {
    ctx.body = { status: 'queued' };
  });
  return router;
}

/** Budgets are per clock minute: start a counting test well inside one, never on its edge. */
async function awayFromMinuteEdge(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 3_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

describe('rate limiting per client', function () {
  this.timeout(20_000);
  describe('with a small budget', () => {
    let app: HttpTestApp;
    before(async () => {
      app = await startHttpTestApp({ env: { RATE_LIMIT_PER_MINUTE: '3' }, extraRouters: [fakeWebhook()] });
    });
    after(() => app.close());

    it('answers 429 with Retry-After and {errors} once the budget of the minute is spent, wrong tokens included', async () => {
      await awayFromMinuteEdge();
      const first = await app.api('GET', '/api/bot/status');
      expect(first.status).to.equal(200);
      expect(first.headers.get('ratelimit-limit')).to.equal('3');
      expect(first.headers.get('ratelimit-remaining')).to.equal('2');
      expect((await app.api('GET', '/api/bot/status', undefined, { authorization: 'Bearer guess' })).status).to.equal(401);
      expect((await app.api('GET', '/api/bot/status')).status).to.equal(200);
      const limited = await app.api('POST', '/api/bot/disable');
      expect(limited.status).to.equal(429);
      expect(limited.body.errors[0]).to.match(/^too many requests: at most 3 per minute/);
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).to.be.within(1, 60);
      expect(limited.headers.get('x-content-type-options')).to.equal('nosniff');
      // The refused write did not happen.
      expect((await app.deps.settings.current()).BOT_ENABLED).to.equal(true);
    });

    it('leaves /health and, by default, the webhook alone (GOSAC sends everything from one address)', async () => {
      for (let index = 0; index < 6; index += 1) {
        expect((await app.raw('GET', '/health')).status).to.equal(200);
        const webhook = await app.raw('POST', '/webhook', { body: '{}', headers: { 'content-type': 'application/json' } });
        expect(webhook.status).to.equal(200);
        expect(webhook.headers.get('ratelimit-limit')).to.equal(null);
      }
    });
  });

  it('limits the webhook only when RATE_LIMIT_WEBHOOK_PER_MINUTE is set', async () => {
    const app = await startHttpTestApp({ env: { RATE_LIMIT_WEBHOOK_PER_MINUTE: '2' }, extraRouters: [fakeWebhook()] });
    try {
      await awayFromMinuteEdge();
      const statuses: number[] = [];
      for (let index = 0; index < 3; index += 1) {
        statuses.push((await app.raw('POST', '/webhook', { body: '{}', headers: { 'content-type': 'application/json' } })).status);
      }
      expect(statuses).to.deep.equal([200, 200, 429]);
      expect((await app.api('GET', '/api/bot/status')).status).to.equal(200);
    } finally {
      await app.close();
    }
  });

  it('defaults to a budget the front end never reaches and no webhook limit', () => {
    const config = loadConfig({});
    expect(config.rateLimit).to.deep.equal({ apiPerMinute: 1200, webhookPerMinute: 0 });
    expect(config.trustProxy).to.equal(false);
    expect(() => loadConfig({ RATE_LIMIT_PER_MINUTE: '-1' })).to.throw(/RATE_LIMIT_PER_MINUTE/);
  });

  it('counts in windows that expire (in-process counters)', () => {
    let now = 1_000;
    const counters = createExpiringCounters(() => now);
    expect([counters.increment('a', 100), counters.increment('a', 100), counters.increment('b', 100)]).to.deep.equal([1, 2, 1]);
    now += 100;
    expect(counters.increment('a', 100)).to.equal(1);
  });

  // REDIS_URL when the run has one; otherwise a redis-server of its own (never skipped).
  it('shares one counter between replicas through Redis', async () => {
    let ownRedis: RedisChild | undefined;
    if (!process.env.REDIS_URL) {
      if (!redisServerAvailable()) throw new Error(redisServerMissing);
      ownRedis = redisChild(await freePort());
      await ownRedis.start();
    }
    const url = process.env.REDIS_URL ?? ownRedis!.url;
    const logger = createLogger('silent');
    const [one, two] = [createRedisSharedState(url, logger), createRedisSharedState(url, logger)];
    try {
      for (let attempt = 0; attempt < 50 && !(one.connected() && two.connected()); attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const key = `ratelimit:test:${process.pid}:${Date.now()}`;
      expect([await one.increment(key, 5_000), await two.increment(key, 5_000), await one.increment(key, 5_000)]).to.deep.equal([1, 2, 3]);
    } finally {
      await one.close();
      await two.close();
      await ownRedis?.kill();
    }
  });
});
