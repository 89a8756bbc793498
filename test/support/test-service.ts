import { loadConfig, type Config } from '../../src/config.js';
import { startService, type RunningService } from '../../src/service.js';
import { createLogger } from '../../src/shared/logger.js';
import { within } from './bounded.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { TEST_ADMIN_TOKEN } from './test-deps.js';

export interface TestService extends RunningService {
  readonly url: string;
  readonly testDb: TestDatabase;
  /** fetch against the service with the admin bearer token. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  webhook(payload: unknown, query?: string): Promise<{ status: number; body: any }>;
}

/**
 * The configuration of a service under test: a free port on 127.0.0.1, no debounce, no cooldown,
 * no demo flow, the test admin token, and REDIS_URL when the run has one. `env` overrides it.
 */
export function testServiceConfig(env: Record<string, string>): Config {
  return loadConfig({
    ADMIN_API_TOKEN: TEST_ADMIN_TOKEN,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DEBOUNCE_TIME: '0',
    MESSAGE_COOLDOWN: '0',
    DEMO_FLOW: 'false',
    WORKER_POLL_INTERVAL_MS: '100',
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    ...env,
  });
}

/** The whole service (web + worker) in this process on a fresh database (see testServiceConfig). */
export async function startTestService(
  env: Record<string, string> = {},
  existing?: TestDatabase,
): Promise<TestService> {
  const testDb = existing ?? (await createTestDatabase());
  const config = testServiceConfig({ DATABASE_URL: testDb.url, ...env });
  const service = await within(
    startService(config, { logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') }),
    45_000,
    'the test service did not start',
  );
  if (!service.url) throw new Error('test service has no web role');
  const url = service.url;
  const call = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // plain-text answers stay text
    }
    return { status: response.status, body: parsed as any };
  };
  return {
    ...service,
    url,
    testDb,
    admin: (method, path, body) => call(method, path, body, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }),
    webhook: (payload, query = '') => call('POST', `/webhook${query}`, payload, {}),
  };
}
