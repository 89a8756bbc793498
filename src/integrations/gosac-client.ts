import { createJsonPoster, JsonPostError } from './json-post.js';
import { parseRetryAfter } from '../deliveries/send-policy.js';
import type { Logger } from '../shared/logger.js';

export { parseRetryAfter };

export interface GosacReply {
  readonly ticketId: number | null;
  readonly contactId: number;
  /** Only for log lines about it. */
  readonly conversationId?: number | null;
  readonly text: string;
}

export type SendOutcome =
  | { readonly ok: true; readonly dryRun: boolean }
  | {
      readonly ok: false;
      readonly retryable: boolean;
      readonly retryAfterMs?: number;
      /**
       * True when the whole request went out and no answer came back (timeout, connection reset
       * or aborted after the request was written): GOSAC may have acted on it. False or absent:
       * GOSAC answered, or the request never left (refused connection, DNS failure).
       */
      readonly uncertain?: boolean;
      readonly error: string;
    };

export interface GosacClient {
  /** False when replies are only logged (no key outside production): the dry-run mode. */
  readonly live: boolean;
  /** `signal` aborts a call in flight (a stopping worker must not wait out GOSAC's timeout). */
  send(reply: GosacReply, options?: { readonly signal?: AbortSignal }): Promise<SendOutcome>;
}

export interface GosacClientOptions {
  readonly baseUrl?: string | undefined;
  readonly authorizationKey?: string | undefined;
  readonly integration?: string | undefined;
  readonly sendMode: 'ticket' | 'contact';
  readonly timeoutMs: number;
  readonly production: boolean;
  readonly logger: Logger;
  /**
   * Keep-alive connections to GOSAC: one per call the send stage may have in flight
   * (SEND_CONCURRENCY). A call past the pool's size waits inside the agent for a socket.
   */
  readonly maxSockets: number;
}

// 408/429 and server errors say "try again later"; every other 4xx says "this request is wrong",
// and repeating it would only repeat the refusal.
const retryableStatuses = new Set([408, 425, 429]);
const maxErrorBodyLength = 300;
// Failures that happen before a connection exists: nothing can have reached GOSAC.
const definiteErrorCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ERR_INVALID_URL']);

/**
 * Whether GOSAC may have the request although we got no answer. Only a request written out in
 * full (its 'finish') can have been acted on; a connection that was refused or never resolved
 * sent nothing.
 */
function mayHaveReachedGosac(error: unknown): boolean {
  if (!(error instanceof JsonPostError)) return true;
  if (definiteErrorCodes.has(error.code)) return false;
  return error.requestSent;
}

export function createGosacClient(options: GosacClientOptions): GosacClient {
  const { baseUrl, authorizationKey, integration, logger } = options;
  const live = Boolean(authorizationKey && baseUrl);
  const log = logger.child({ component: 'gosac' });
  const headers: Record<string, string> = {
    Authorization: authorizationKey ?? '',
    'Content-Type': 'application/json',
  };
  if (integration) headers['INTEGRATION'] = integration;
  // Many replies in flight at once reuse their connections instead of opening one per call. No
  // retries and no redirects here: the send stage owns retries (ordered, persisted, with backoff).
  const poster = createJsonPoster({ headers, timeoutMs: options.timeoutMs, maxSockets: options.maxSockets });

  async function post(url: string, json: Record<string, unknown>, signal?: AbortSignal): Promise<SendOutcome> {
    // The headers carry the key: the logger redacts `headers.Authorization` (a test checks it).
    log.trace({ url, headers }, 'calling GOSAC');
    const started = Date.now();
    try {
      const response = await poster.post(url, json, { signal });
      const status = response.status;
      log.debug({ url, status, ms: Date.now() - started }, 'GOSAC answered');
      if (status >= 200 && status < 300) return { ok: true, dryRun: false };
      const error = `GOSAC answered ${status}: ${response.body.slice(0, maxErrorBodyLength)}`;
      if (status >= 500 || retryableStatuses.has(status)) {
        const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
        return retryAfterMs === undefined
          ? { ok: false, retryable: true, error }
          : { ok: false, retryable: true, retryAfterMs, error };
      }
      return { ok: false, retryable: false, error };
    } catch (error) {
      // Timeouts, refused or reset connections, DNS failures: the message may not have reached
      // GOSAC, so trying again is the only way to get it there; `uncertain` says whether it may
      // have reached GOSAC all the same (then the send stage repeats it once at most).
      const code = error instanceof JsonPostError ? error.code : undefined;
      const message = error instanceof Error ? error.message : String(error);
      log.debug({ url, code, ms: Date.now() - started }, 'GOSAC call failed');
      return {
        ok: false,
        retryable: true,
        uncertain: mayHaveReachedGosac(error),
        error: code ? `${code}: ${message}` : message,
      };
    }
  }

  return {
    live,
    async send(reply, sendOptions = {}) {
      if (!live) {
        if (options.production) {
          return { ok: false, retryable: false, error: 'GOSAC is not configured (GOSAC_AUTHORIZATION_KEY / GOSAC_BASE_URL)' };
        }
        log.info({ contactId: reply.contactId, conversationId: reply.conversationId, ticketId: reply.ticketId, text: reply.text }, 'dry run: reply not sent');
        return { ok: true, dryRun: true };
      }
      const base = (baseUrl ?? '').replace(/\/+$/, '');
      // Without a ticket the ticket endpoint has nowhere to post; the contact endpoint still reaches the person.
      if (options.sendMode === 'ticket' && reply.ticketId !== null) {
        return post(`${base}/messages/${encodeURIComponent(String(reply.ticketId))}`, { body: reply.text }, sendOptions.signal);
      }
      if (options.sendMode === 'ticket') {
        log.warn({ contactId: reply.contactId, conversationId: reply.conversationId }, 'reply has no ticket id; sending through /send-message');
      }
      return post(`${base}/send-message`, { contact_id: reply.contactId, message: reply.text }, sendOptions.signal);
    },
  };
}
