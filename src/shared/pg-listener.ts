import pg from 'pg';
import type { Logger } from './logger.js';

export interface PgListener {
  /** Calls `onNotify` for every notification on `channel`, from any process. */
  listen(channel: string, onNotify: () => void): Promise<void>;
  close(): Promise<void>;
}

const RECONNECT_MS = 1_000;

/**
 * One connection LISTENing for every loop of this process. A lost connection is reopened after a
 * second and every listener is told (a notification may have been missed meanwhile).
 */
export function createPgListener(connectionString: string, logger: Logger): PgListener {
  const handlers = new Map<string, Array<() => void>>();
  let client: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const wakeAll = () => {
    for (const list of handlers.values()) for (const handler of list) handler();
  };

  async function connect(): Promise<void> {
    const next = new pg.Client({ connectionString });
    next.on('notification', (message) => {
      for (const handler of handlers.get(message.channel) ?? []) handler();
    });
    next.on('error', (error) => {
      logger.warn({ err: error.message }, 'notification connection lost; reconnecting');
      if (client === next) client = undefined;
      next.end().catch(() => undefined);
      scheduleReconnect();
    });
    await next.connect();
    for (const channel of handlers.keys()) await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    if (closed) {
      await next.end();
      return;
    }
    client = next;
  }

  function scheduleReconnect(): void {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      ensureConnected()
        .then(wakeAll)
        .catch((error: unknown) => {
          logger.warn({ err: String(error) }, 'notification connection failed; retrying');
          scheduleReconnect();
        });
    }, RECONNECT_MS);
    retry.unref();
  }

  function ensureConnected(): Promise<void> {
    if (client) return Promise.resolve();
    connecting ??= connect().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  return {
    async listen(channel, onNotify) {
      const known = handlers.get(channel);
      if (known) {
        known.push(onNotify);
        return;
      }
      handlers.set(channel, [onNotify]);
      if (client) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      else await ensureConnected();
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      await connecting?.catch(() => undefined);
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}
