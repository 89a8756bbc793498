import Router from '@koa/router';
import { expect } from 'chai';
import { TEST_ADMIN_TOKEN } from '../support/test-deps.js';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

describe('http app: cross-cutting middleware', () => {
  let app: HttpTestApp;
  before(async () => {
    // A route that fails the way a bug would: an error whose message looks like SQL.
    const failing = new Router();
    failing.get('/boom', () => {
      throw new Error('select * from secrets where token = 42 -- boom');
    });
    app = await startHttpTestApp({
      env: { ALLOWED_ORIGINS: 'https://admin.example.com, https://other.example.com' },
      extraRouters: [failing],
    });
  });
  after(() => app.close());

  describe('admin token', () => {
    it('answers 401 without a token', async () => {
      const answer = await app.raw('GET', '/api/flow-templates');
      expect(answer.status).to.equal(401);
      expect(answer.body).to.deep.equal({ errors: ['missing or invalid bearer token'] });
      expect(answer.headers.get('www-authenticate')).to.equal('Bearer');
    });

    it('answers 401 with a wrong token, a token of another length, or another scheme', async () => {
      for (const authorization of [
        `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}x`,
        'Bearer short',
        `Basic ${TEST_ADMIN_TOKEN}`,
        `Bearer ${TEST_ADMIN_TOKEN} extra`,
        'Bearer',
      ]) {
        const answer = await app.raw('GET', '/api/flow-templates', { headers: { authorization } });
        expect(answer.status, authorization).to.equal(401);
        expect(answer.body).to.deep.equal({ errors: ['missing or invalid bearer token'] });
      }
    });

    it('accepts the right token, whatever the case of the scheme', async () => {
      const answer = await app.raw('GET', '/api/flow-templates', {
        headers: { authorization: `bearer ${TEST_ADMIN_TOKEN}` },
      });
      expect(answer.status).to.equal(200);
    });

    it('protects every /api route, writes included', async () => {
      for (const [method, path] of [
        ['POST', '/api/flow-templates'],
        ['PUT', '/api/flows/1'],
        ['DELETE', '/api/subflows/1'],
        ['GET', '/api/conversations'],
        ['PUT', '/api/settings/BOT_ENABLED'],
        ['POST', '/api/bot/disable'],
      ] as const) {
        const body = method === 'GET' ? undefined : '{}';
        const answer = await app.raw(method, path, { headers: { 'content-type': 'application/json' }, body });
        expect(answer.status, `${method} ${path}`).to.equal(401);
      }
      expect((await app.deps.settings.current()).BOT_ENABLED).to.equal(true);
    });
  });

  describe('errors', () => {
    it('answers 404 with the JSON shape for an unknown route', async () => {
      const answer = await app.api('GET', '/nothing/here');
      expect(answer.status).to.equal(404);
      expect(answer.body).to.deep.equal({ errors: ['not found'] });
      const underApi = await app.api('GET', '/api/nothing');
      expect(underApi.status).to.equal(404);
      expect(underApi.body).to.deep.equal({ errors: ['not found'] });
    });

    it('answers 405 with the JSON shape for a known path and another method', async () => {
      const answer = await app.api('PATCH', '/api/flow-templates');
      expect(answer.status).to.equal(405);
      expect(answer.body).to.deep.equal({ errors: ['method not allowed'] });
    });

    it('answers 400 for malformed JSON', async () => {
      const answer = await app.api('POST', '/api/flow-templates', undefined, {});
      expect(answer.status).to.equal(400);
      const malformed = await app.raw('POST', '/api/flow-templates', {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: '{"name": "unfinished',
      });
      expect(malformed.status).to.equal(400);
      expect(malformed.body).to.deep.equal({ errors: ['body: malformed JSON'] });
    });

    it('answers 400 for a JSON body that is not an object', async () => {
      const answer = await app.raw('POST', '/api/flow-templates', {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: '["name"]',
      });
      expect(answer.status).to.equal(400);
      expect(answer.body).to.deep.equal({ errors: ['body: must be a JSON object'] });
    });

    it('answers 413 for a body over 1 MB', async () => {
      const answer = await app.raw('POST', '/api/flow-templates', {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x', description: 'y'.repeat(1024 * 1024 + 10) }),
      });
      expect(answer.status).to.equal(413);
      expect(answer.body.errors[0]).to.match(/^body: too large/);
    });

    it('answers 500 "internal error" without a stack or the failing text', async () => {
      const answer = await app.api('GET', '/boom');
      expect(answer.status).to.equal(500);
      expect(answer.body).to.deep.equal({ errors: ['internal error'] });
      expect(answer.text).not.to.match(/select|secrets|at .*\.ts|Error/);
    });
  });

  describe('headers', () => {
    it('sets the security headers on successes and errors alike', async () => {
      for (const answer of [
        await app.raw('GET', '/health'),
        await app.raw('GET', '/api/flow-templates'),
        await app.api('GET', '/boom'),
        await app.api('GET', '/nothing'),
      ]) {
        expect(answer.headers.get('x-content-type-options')).to.equal('nosniff');
        expect(answer.headers.get('x-frame-options')).to.equal('DENY');
        expect(answer.headers.get('referrer-policy')).to.equal('no-referrer');
        expect(answer.headers.get('content-security-policy')).to.include("default-src 'none'");
        expect(answer.headers.get('content-security-policy')).to.include("frame-ancestors 'none'");
        expect(answer.headers.get('cross-origin-opener-policy')).to.equal('same-origin');
        expect(answer.headers.get('cache-control')).to.equal('no-store');
        expect(answer.headers.get('content-type')).to.match(/^application\/json/);
      }
    });

    it('gives every answer a request id, reusing a plain one from the caller', async () => {
      const fresh = await app.raw('GET', '/health');
      expect(fresh.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
      const reused = await app.raw('GET', '/health', { headers: { 'x-request-id': 'abc-123' } });
      expect(reused.headers.get('x-request-id')).to.equal('abc-123');
      const refused = await app.raw('GET', '/health', { headers: { 'x-request-id': 'bad id\twith spaces' } });
      expect(refused.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    });
  });

  describe('CORS', () => {
    it('allows a configured origin, on answers and on preflight', async () => {
      const answer = await app.api('GET', '/api/flow-templates', undefined, { origin: 'https://admin.example.com' });
      expect(answer.headers.get('access-control-allow-origin')).to.equal('https://admin.example.com');
      expect(answer.headers.get('vary')).to.match(/origin/i);
      const preflight = await app.raw('OPTIONS', '/api/flow-templates', {
        headers: {
          origin: 'https://other.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
      expect(preflight.status).to.equal(204);
      expect(preflight.headers.get('access-control-allow-origin')).to.equal('https://other.example.com');
      expect(preflight.headers.get('access-control-allow-methods')).to.include('PUT');
      expect(preflight.headers.get('access-control-allow-headers')).to.match(/authorization/i);
      expect(preflight.headers.get('access-control-allow-credentials')).to.equal(null);
    });

    it('lets a configured browser origin read X-Total-Count (Access-Control-Expose-Headers), errors included', async () => {
      const origin = 'https://admin.example.com';
      const answer = await app.api('GET', '/api/conversations', undefined, { origin });
      expect(answer.status).to.equal(200);
      expect(answer.headers.get('x-total-count')).to.equal('0');
      expect(answer.headers.get('access-control-allow-origin')).to.equal(origin);
      const exposed = (answer.headers.get('access-control-expose-headers') ?? '').split(',').map((name) => name.trim().toLowerCase());
      expect(exposed).to.include.members(['x-total-count', 'x-request-id', 'retry-after']);
      const failed = await app.api('GET', '/api/conversations?limit=x', undefined, { origin });
      expect(failed.status).to.equal(400);
      expect(failed.headers.get('access-control-allow-origin')).to.equal(origin);
      expect(failed.headers.get('access-control-expose-headers')).to.match(/X-Total-Count/i);
    });

    it('gives no CORS header to another origin and refuses its preflight', async () => {
      const answer = await app.api('GET', '/api/flow-templates', undefined, { origin: 'https://evil.example.com' });
      expect(answer.headers.get('access-control-allow-origin')).to.equal(null);
      const preflight = await app.raw('OPTIONS', '/api/flow-templates', {
        headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'DELETE' },
      });
      expect(preflight.status).to.equal(403);
      expect(preflight.headers.get('access-control-allow-origin')).to.equal(null);
      expect(answer.headers.get('access-control-expose-headers')).to.equal(null);
    });
  });
});

describe('http app: CORS with ALLOWED_ORIGINS=*', () => {
  let app: HttpTestApp;
  before(async () => {
    app = await startHttpTestApp({ env: { ALLOWED_ORIGINS: '*' } });
  });
  after(() => app.close());

  it('answers any origin with that origin (never "*" itself), exposing X-Total-Count', async () => {
    const answer = await app.api('GET', '/api/conversations', undefined, { origin: 'http://localhost:5173' });
    expect(answer.headers.get('access-control-allow-origin')).to.equal('http://localhost:5173');
    expect(answer.headers.get('access-control-expose-headers')).to.match(/X-Total-Count/i);
    const preflight = await app.raw('OPTIONS', '/api/conversations', {
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).to.equal(204);
    expect(preflight.headers.get('access-control-allow-origin')).to.equal('http://localhost:5173');
  });
});

describe('http app: security headers in production', () => {
  let app: HttpTestApp;
  before(async () => {
    app = await startHttpTestApp({ env: { NODE_ENV: 'production' } });
  });
  after(() => app.close());

  it('adds Strict-Transport-Security in production only', async () => {
    const answer = await app.raw('GET', '/health');
    expect(answer.headers.get('strict-transport-security')).to.equal('max-age=31536000; includeSubDomains');
    expect(answer.headers.get('cache-control')).to.equal('no-store');
    const development = await startHttpTestApp();
    try {
      expect((await development.raw('GET', '/health')).headers.get('strict-transport-security')).to.equal(null);
    } finally {
      await development.close();
    }
  });
});

describe('http app: CORS without configured origins', () => {
  let app: HttpTestApp;
  before(async () => {
    app = await startHttpTestApp();
  });
  after(() => app.close());

  it('allows no origin at all', async () => {
    const answer = await app.api('GET', '/api/flow-templates', undefined, { origin: 'http://localhost:3000' });
    expect(answer.status).to.equal(200);
    expect(answer.headers.get('access-control-allow-origin')).to.equal(null);
    const preflight = await app.raw('OPTIONS', '/api/flow-templates', {
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).to.equal(403);
  });
});
