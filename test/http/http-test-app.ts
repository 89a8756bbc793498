import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type Router from '@koa/router';
import type { CoreDeps } from '../../src/app-deps.js';
import { buildAdminServices } from '../../src/admin-services.js';
import { createHttpApp } from '../../src/http/app.js';
import { createAdminRouter } from '../../src/http/routes/admin-router.js';
import { buildTestDeps, TEST_ADMIN_TOKEN } from '../support/test-deps.js';
import type { TestDatabase } from '../support/test-database.js';

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface HttpTestApp {
  readonly url: string;
  readonly deps: CoreDeps & { testDb: TestDatabase };
  /** A request with the admin bearer token (override or drop it through `headers`). */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  /** A request with exactly the given headers and raw body. */
  raw(method: string, path: string, init?: { body?: string; headers?: Record<string, string> }): Promise<Answer>;
  close(): Promise<void>;
}

/** The admin router (plus any extra routers) around a fresh database, on a free local port. */
export async function startHttpTestApp(
  options: { env?: Record<string, string>; extraRouters?: Router[]; deps?: (deps: CoreDeps) => CoreDeps } = {},
): Promise<HttpTestApp> {
  const testDeps = await buildTestDeps(options.env);
  const deps = options.deps ? options.deps(testDeps) : testDeps;
  const app = createHttpApp(deps, [
    createAdminRouter({ ...deps, workerRunning: () => false, services: buildAdminServices(deps) }),
    ...(options.extraRouters ?? []),
  ]);
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const raw: HttpTestApp['raw'] = async (method, path, init = {}) => {
    const response = await fetch(`${url}${path}`, { method, headers: init.headers ?? {}, body: init.body });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body, text };
  };

  return {
    url,
    deps: testDeps,
    raw,
    api: (method, path, body, headers = {}) =>
      raw(method, path, {
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json', ...headers },
      }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await testDeps.testDb.drop();
    },
  };
}
