import { openAsBlob } from 'node:fs';
import got, { type Response } from 'got';
import type { Knex } from 'knex';
import { ActionError, httpFailure, networkFailure, notConfigured } from '../actions/action-errors.js';
import { parseRetryAfter } from '../deliveries/send-policy.js';
import type { Logger } from '../shared/logger.js';

// SPEC §6 and §8: Pontta, the furniture ERP. One id_token shared by every worker of every replica
// (the integration_tokens table), taken before it expires and renewed once when Pontta answers
// 401. Credentials go in request bodies and headers only, never in a log line or an error.

export interface PonttaOptions {
  readonly authUrl: string | undefined;
  readonly baseUrl: string | undefined;
  readonly businessUnit: string | undefined;
  readonly email: string | undefined;
  readonly password: string | undefined;
  readonly timeoutMs: number;
}

export interface StoredFile {
  readonly path: string;
  readonly name: string;
  readonly mimeType: string;
}

export interface PonttaClient {
  readonly configured: boolean;
  /** The new occurrence's id (from `x-pontta-params`). */
  createOccurrence(input: { title: string; note: string; salesOrderCode?: string | undefined }): Promise<string>;
  attachFile(occurrenceId: string, file: StoredFile): Promise<void>;
}

export const PONTTA_TOKEN_KEY = 'pontta';
/** Renew this long before the token's own expiry. */
const REFRESH_MARGIN_MS = 60_000;
/** When the token does not say (Pontta's live about 10 minutes). */
const DEFAULT_TOKEN_LIFE_MS = 9 * 60_000;

function tokenExpiry(token: string, now: number): number {
  const payload = token.split('.')[1];
  if (payload) {
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
      if (typeof claims.exp === 'number') return claims.exp * 1000;
    } catch {
      // not a JWT we can read: use the default life
    }
  }
  return now + DEFAULT_TOKEN_LIFE_MS;
}

/** The occurrence id in `x-pontta-params`: a bare id, JSON (`{"id": 12}`) or `id=12`. */
export function occurrenceIdFrom(header: string | string[] | undefined): string | null {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return null;
  try {
    const parsed = JSON.parse(value) as unknown;
    if (typeof parsed === 'number' || typeof parsed === 'string') return String(parsed);
    if (parsed && typeof parsed === 'object' && 'id' in parsed) return String((parsed as { id: unknown }).id);
  } catch {
    // not JSON
  }
  const pair = /(?:^|[;,&\s])id=([^;,&\s]+)/i.exec(value);
  return pair?.[1] ?? value;
}

export function createPonttaClient(deps: { db: Knex; logger: Logger; options: PonttaOptions }): PonttaClient {
  const { options, db } = deps;
  const log = deps.logger.child({ component: 'pontta' });
  const configured = Boolean(options.authUrl && options.baseUrl && options.businessUnit && options.email && options.password);
  const base = (options.baseUrl ?? '').replace(/\/+$/, '');

  async function authenticate(): Promise<string> {
    let response: Response<string>;
    try {
      response = await got.post(options.authUrl ?? '', {
        json: { email: options.email, password: options.password, rememberMe: true },
        throwHttpErrors: false,
        retry: { limit: 0 },
        timeout: { request: options.timeoutMs },
      });
    } catch (error) {
      throw networkFailure('Pontta authentication', error);
    }
    if (response.statusCode < 200 || response.statusCode >= 300) {
      // A refused login is no credential problem to retry forever: 401/403 fail the action.
      const status = response.statusCode;
      throw new ActionError(`Pontta authentication answered ${status}`, status >= 500 || status === 429);
    }
    const token = (JSON.parse(response.body) as { id_token?: unknown }).id_token;
    if (typeof token !== 'string' || token === '') throw new ActionError('Pontta authentication gave no id_token', true);
    log.info('authenticated with Pontta');
    return token;
  }

  /** The shared token, renewed under a lock so that racing workers authenticate once. */
  async function token(force: { stale: string } | null): Promise<string> {
    return db.transaction(async (trx) => {
      await trx.raw("SELECT pg_advisory_xact_lock(hashtextextended('integration-token:pontta', 0))");
      const row = (await trx('integration_tokens')
        .where({ service: PONTTA_TOKEN_KEY })
        .andWhere('expires_at', '>', new Date(Date.now() + REFRESH_MARGIN_MS))
        .first('token')) as { token: string } | undefined;
      // Another worker may have renewed it already after the same 401.
      if (row && row.token !== force?.stale) return row.token;
      const fresh = await authenticate();
      await trx.raw(
        `INSERT INTO integration_tokens (service, token, expires_at, updated_at) VALUES (?, ?, ?, now())
         ON CONFLICT (service) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at, updated_at = now()`,
        [PONTTA_TOKEN_KEY, fresh, new Date(tokenExpiry(fresh, Date.now()))],
      );
      return fresh;
    });
  }

  /** One call with the shared token; on 401 one re-authentication and one more call. */
  async function call(describe: string, send: (token: string) => Promise<Response<string>>): Promise<Response<string>> {
    let current = await token(null);
    for (let attempt = 0; ; attempt += 1) {
      let response: Response<string>;
      try {
        response = await send(current);
      } catch (error) {
        throw networkFailure(`Pontta ${describe}`, error);
      }
      if (response.statusCode === 401 && attempt === 0) {
        log.info({ call: describe }, 'Pontta answered 401: authenticating again');
        current = await token({ stale: current });
        continue;
      }
      if (response.statusCode >= 200 && response.statusCode < 300) return response;
      throw httpFailure(`Pontta ${describe}`, response.statusCode, response.body, parseRetryAfter(response.headers['retry-after']));
    }
  }

  const headers = (token: string) => ({ Authorization: `Bearer ${token}`, Businessunit: options.businessUnit ?? '' });
  const common = { throwHttpErrors: false, retry: { limit: 0 }, timeout: { request: options.timeoutMs }, followRedirect: false } as const;

  async function findSalesOrderId(code: string): Promise<string | null> {
    const response = await call('sales order search', (t) =>
      got.get(`${base}/sales-orders/summary`, {
        ...common,
        headers: headers(t),
        searchParams: { status: 'VALID', q: code, page: 0, size: 25 },
      }),
    );
    const body = JSON.parse(response.body || '{}') as unknown;
    const list = Array.isArray(body) ? body : ((body as { content?: unknown[] }).content ?? []);
    const orders = list as Array<{ id?: unknown; code?: unknown }>;
    const exact = orders.find((order) => String(order.code ?? '') === code) ?? orders[0];
    return exact?.id === undefined || exact.id === null ? null : String(exact.id);
  }

  return {
    configured,

    async createOccurrence(input) {
      if (!configured) throw notConfigured('Pontta', 'PONTTA_AUTH_URL, PONTTA_BASE_URL, PONTTA_BUSINESS_UNIT, PONTTA_EMAIL, PONTTA_PASSWORD');
      const code = input.salesOrderCode?.trim();
      const salesOrderId = code ? await findSalesOrderId(code) : null;
      const body = {
        type: 'OCCURRENCE',
        title: input.title,
        note: input.note,
        ...(code ? { salesOrderCode: code } : {}),
        ...(salesOrderId ? { salesOrderId } : {}),
      };
      const response = await call('occurrence', (t) => got.post(`${base}/occurrences`, { ...common, headers: headers(t), json: body }));
      const id = occurrenceIdFrom(response.headers['x-pontta-params']);
      if (!id) throw new ActionError('Pontta created the occurrence but sent no x-pontta-params id', false);
      return id;
    },

    async attachFile(occurrenceId, file) {
      if (!configured) throw notConfigured('Pontta', 'PONTTA_AUTH_URL, PONTTA_BASE_URL, PONTTA_BUSINESS_UNIT, PONTTA_EMAIL, PONTTA_PASSWORD');
      await call('attachment', async (t) => {
        // A Blob backed by the file: the multipart body is read from disk as it is sent.
        const form = new FormData();
        form.append('file', await openAsBlob(file.path, { type: file.mimeType }), file.name);
        return got.post(`${base}/file-storage/OCCURRENCE/${encodeURIComponent(occurrenceId)}`, { ...common, headers: headers(t), body: form });
      });
    },
  };
}
