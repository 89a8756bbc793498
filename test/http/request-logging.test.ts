import { Writable } from 'node:stream';
import Router from '@koa/router';
import { expect } from 'chai';
import { pino } from 'pino';
import { TEST_ADMIN_TOKEN } from '../support/test-deps.js';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

describe('http app: request logging', () => {
  let app: HttpTestApp;
  const lines: Array<Record<string, any>> = [];
  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const failing = new Router();
    failing.get('/boom', () => {
      throw new Error('database exploded');
    });
    app = await startHttpTestApp({
      extraRouters: [failing],
      deps: (deps) => ({ ...deps, logger: pino({ level: 'info' }, sink) }),
    });
  });
  after(() => app.close());

  it('logs one line per request with its id, method, path without query, status and duration', async () => {
    lines.length = 0;
    const answer = await app.api('GET', `/api/flow-templates?token=${TEST_ADMIN_TOKEN}&x=1`);
    const line = lines.find((entry) => entry.msg === 'request');
    expect(line).to.include({ method: 'GET', path: '/api/flow-templates', status: 200 });
    expect(line?.requestId).to.equal(answer.headers.get('x-request-id'));
    expect(line?.durationMs).to.be.a('number');
    expect(JSON.stringify(lines)).not.to.include(TEST_ADMIN_TOKEN);
  });

  it('logs an unexpected failure with its stack, under the request id', async () => {
    lines.length = 0;
    const answer = await app.api('GET', '/boom');
    expect(answer.status).to.equal(500);
    const failure = lines.find((entry) => entry.msg === 'unhandled error');
    expect(failure?.err?.stack).to.include('database exploded');
    expect(failure?.requestId).to.equal(answer.headers.get('x-request-id'));
    expect(JSON.stringify(lines)).not.to.include(TEST_ADMIN_TOKEN);
  });
});
