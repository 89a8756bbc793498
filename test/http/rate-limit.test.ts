import Router from '@koa/router';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { createExpiringCounters } from '../../src/shared/expiring-counters.js';
import { createLogger } from '../../src/shared/logger.js';
import { createRedisSharedState } from '../../src/shared/shared-state.js';
import { redisForTest, type RedisChild } from '../support/redis-server.js';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

function fakeWebhook(): Router {
  const router = new Router();
  router.post('/webhook', (ctx) => {
    ctx.body = { status: 'queued' };
  });
  return router;
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

  it('takes the client address from X-Forwarded-For only when TRUST_PROXY is set', async () => {
    const spend = async (app: HttpTestApp, client: string) =>
      (await app.api('GET', '/api/bot/status', undefined, { 'x-forwarded-for': client })).status;
    const trusting = await startHttpTestApp({ env: { RATE_LIMIT_PER_MINUTE: '1', TRUST_PROXY: 'true' } });
    try {
      expect([await spend(trusting, '203.0.113.1'), await spend(trusting, '203.0.113.2'), await spend(trusting, '203.0.113.1')])
        .to.deep.equal([200, 200, 429]);
    } finally {
      await trusting.close();
    }
    const direct = await startHttpTestApp({ env: { RATE_LIMIT_PER_MINUTE: '1' } });
    try {
      // A client cannot buy a new budget by inventing addresses.
      expect([await spend(direct, '203.0.113.1'), await spend(direct, '203.0.113.2')]).to.deep.equal([200, 429]);
    } finally {
      await direct.close();
    }
  });

  describe('with Redis (REDIS_URL, or a redis-server of its own)', () => {
    let redis: RedisChild | undefined;
    let url: string;
    before(async () => {
      ({ url, child: redis } = await redisForTest());
    });
    after(() => redis?.kill());

    it('spends one budget across replicas (RateLimiterRedis), and counts per process while Redis is away', async () => {
      const logger = createLogger('silent');
      const states = [createRedisSharedState(url, logger), createRedisSharedState(url, logger)];
      const apps: HttpTestApp[] = [];
      try {
        for (let attempt = 0; attempt < 100 && !states.every((state) => state.connected()); attempt += 1) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        // A budget no earlier run of this test left a counter for: the windows live in Redis.
        const limit = 3 + (Date.now() % 1000);
        for (const state of states) {
          apps.push(await startHttpTestApp({ env: { RATE_LIMIT_PER_MINUTE: String(limit), TRUST_PROXY: 'true' }, deps: (deps) => ({ ...deps, sharedState: state }) }));
        }
        const [one, two] = apps as [HttpTestApp, HttpTestApp];
        // A client address of its own (TRUST_PROXY): other suites on this Redis count 127.0.0.1.
        const client = `198.51.100.${(Date.now() % 250) + 1}`;
        const status = async (app: HttpTestApp) => {
          const answer = await app.api('GET', '/api/bot/status', undefined, { 'x-forwarded-for': client });
          return [answer.status, answer.headers.get('ratelimit-remaining')];
        };
        expect(await status(one)).to.deep.equal([200, String(limit - 1)]);
        expect(await status(two)).to.deep.equal([200, String(limit - 2)]);
        const keys = await states[0]!.redisClient!.keys('ratelimit:api:*');
        expect(keys.length).to.be.greaterThan(0);
        // Redis goes away: each replica counts on its own instead of failing requests.
        await redis?.kill();
        if (redis) {
          for (let attempt = 0; attempt < 100 && states.some((state) => state.connected()); attempt += 1) {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          expect(await status(one)).to.deep.equal([200, String(limit - 1)]);
        }
      } finally {
        for (const app of apps) await app.close();
        for (const state of states) await state.close();
      }
    });
  });
});
