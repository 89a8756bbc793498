import type { Knex } from 'knex';
import type { CoreDeps } from '../app-deps.js';
import { isDatabaseUnavailable } from '../db/database-errors.js';
import { preparedStatement } from '../db/prepared-statement.js';
import { createBatcher, type BatcherOptions } from '../shared/batcher.js';
import { describeIssues } from '../shared/errors.js';
import { createHandoffService, isTicketClosed } from './handoff.js';
import { eventTypeOf, webhookPayloadSchema, type WebhookMessage } from './webhook-payload.js';

export interface IntakeAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface IntakeService {
  /** Applies SPEC §3's rules in order; every skip answers 200 so GOSAC does not retry it. */
  receive(body: unknown): Promise<IntakeAnswer>;
}

const MESSAGE_CREATED = 'messages:created';
const handledMediaTypes = new Set(['text', 'application']);

const answer = (status: string): IntakeAnswer => ({ status: 200, body: { status } });

interface Accepted {
  readonly message: WebhookMessage;
  /** The id as PostgreSQL will store it (see `storedText`): what duplicates are matched on. */
  readonly id: string;
  readonly mediaType: string;
  readonly debounceMs: number;
}

type Outcome = 'queued' | 'duplicate' | { readonly error: unknown };

/**
 * Group commit (bench/README.md): while one batch is written the next one gathers, at most 64
 * webhooks a statement. Writing two batches at once, or batches of 256, measured no better.
 */
export const INTAKE_BATCH: BatcherOptions = { maxSize: 64, maxInFlight: 1 };

// Every message in the batch with its row, in ONE statement: rows go in arrival order (the inbox
// is read in id order), each due once its contact's debounce window has passed (the step engine
// takes a contact when none of its rows is due later: the newest message decides; in whole
// milliseconds, as the engine's JavaScript clock sees them). Answers the ids
// that were new. No NOTIFY in here: PostgreSQL serialises the commits of notifying transactions,
// so the step engines are woken after the commit instead (`onQueued`).
const STORE = `WITH input AS (
    SELECT * FROM unnest(:contact::bigint[], :ticket::bigint[], :body::text[], :mediaType::text[], :mediaUrl::text[],
                         :mediaPath::text[], :name::text[], :number::text[], :messageId::text[],
                         :delayMs::double precision[], :mimeType::text[])
      WITH ORDINALITY AS input(contact_id, ticket_id, body, media_type, media_url, media_path, contact_name,
                               contact_number, gosac_message_id, delay_ms, media_mime_type, position)
  ), inserted AS (
    INSERT INTO message_history
      (contact_id, ticket_id, direction, body, media_type, media_url, media_path,
       contact_name, contact_number, gosac_message_id, status, due_at, media_mime_type)
    SELECT contact_id, ticket_id, 'inbound', body, media_type, media_url, media_path,
           contact_name, contact_number, gosac_message_id, 'received',
           date_trunc('milliseconds', now()) + delay_ms * interval '1 millisecond', media_mime_type
    FROM input ORDER BY position
    ON CONFLICT (gosac_message_id) DO NOTHING
    RETURNING gosac_message_id
  )
  SELECT array_agg(gosac_message_id) AS inserted FROM inserted`;

export interface IntakeDeps extends CoreDeps {
  /** Told after new messages committed: wakes a step engine (this process's, or NOTIFY). */
  readonly onQueued?: () => void;
}

export function createIntakeService(deps: IntakeDeps, batch: BatcherOptions = INTAKE_BATCH): IntakeService {
  const log = deps.logger.child({ component: 'intake' });

  /** Stores and queues messages with distinct ids; answers the ids that were new. */
  async function storeAndQueue(items: readonly Accepted[]): Promise<Set<string>> {
    // node-postgres sends a JS array as one PostgreSQL array parameter.
    const column = <T>(pick: (item: Accepted) => T) => items.map(pick) as Knex.Value;
    const result = await deps.db.raw(STORE, {
      contact: column((item) => item.message.contactId),
      ticket: column((item) => ticketIdOf(item.message)),
      body: column((item) => item.message.body),
      mediaType: column((item) => item.mediaType),
      mediaUrl: column((item) => item.message.mediaUrl),
      mediaPath: column((item) => item.message.mediaPath),
      name: column((item) => item.message.contact?.name ?? null),
      number: column((item) => item.message.contact?.number ?? null),
      messageId: column((item) => item.id),
      delayMs: column((item) => item.debounceMs),
      mimeType: column((item) => item.message.mimetype ?? item.message.mimeType ?? null),
    }).options(preparedStatement('intake_store'));
    const row = (result as { rows: Array<{ inserted: string[] | null }> }).rows[0];
    const inserted = new Set(row?.inserted ?? []);
    if (inserted.size > 0) deps.onQueued?.();
    return inserted;
  }

  // One batch = the webhooks that reached this step while the previous batch was being written.
  // A repeated id within the batch is a duplicate of its first occurrence. When the statement
  // fails because of one bad row, each message is written alone, in order, so one webhook's
  // problem is not the others' answer; when the database is unavailable everyone gets the error.
  async function flush(items: Accepted[]): Promise<Outcome[]> {
    const firstIndex = new Map<string, number>();
    const distinct: Accepted[] = [];
    const leaderOf = items.map((item) => {
      let index = firstIndex.get(item.id);
      if (index === undefined) {
        index = distinct.push(item) - 1;
        firstIndex.set(item.id, index);
      }
      return index;
    });
    let outcomes: Outcome[];
    try {
      const inserted = await storeAndQueue(distinct);
      outcomes = distinct.map((item) => (inserted.has(item.id) ? 'queued' : 'duplicate'));
    } catch (error) {
      if (distinct.length === 1 || isDatabaseUnavailable(error)) throw error;
      outcomes = [];
      for (const item of distinct) {
        outcomes.push(
          await storeAndQueue([item]).then(
            (inserted): Outcome => (inserted.size > 0 ? 'queued' : 'duplicate'),
            (itemError: unknown): Outcome => ({ error: itemError }),
          ),
        );
      }
    }
    return items.map((item, index) => {
      const leader = leaderOf[index] as number;
      const outcome = outcomes[leader] as Outcome;
      return distinct[leader] === item || typeof outcome !== 'string' ? outcome : 'duplicate';
    });
  }

  const batcher = createBatcher(flush, batch);
  const handoff = createHandoffService(deps);

  return {
    async receive(body) {
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        return { status: 400, body: { errors: ['body: must be a JSON object'] } };
      }
      // Rule 1 comes before validation: other GOSAC events have other shapes and must not be 400s.
      const type = eventTypeOf(body);
      if (type !== undefined && type !== MESSAGE_CREATED) return answer('ignored - not message created');

      const parsed = webhookPayloadSchema.safeParse(body);
      if (!parsed.success) return { status: 400, body: { errors: describeIssues(parsed.error.issues) } };
      const message = parsed.data.data;

      // SPEC §10: a `fromMe` message that is not the bot's echo is a human agent taking over.
      if (message.fromMe) return answer(await handoff.fromMe(message));
      if (isTicketClosed(message)) await handoff.ticketClosed(message);
      if (message.fromGroup) return answer('ignored - from group');
      const mediaType = message.mediaType === 'chat' ? 'text' : message.mediaType;
      if (!handledMediaTypes.has(mediaType)) return answer(`ignored - media type ${message.mediaType}`);

      const settings = await deps.settings.current();
      if (!settings.BOT_ENABLED || settings.BOT_STATUS !== 'active') return answer('bot disabled');
      if (settings.TEST_MODE && String(message.contactId) !== settings.TEST_CONTACT_ID.trim()) {
        return answer('test mode - contact not allowed');
      }
      if (settings.BOT_SKIP_ASSIGNED_TICKETS && isAssigned(message)) {
        return answer('ignored - ticket assigned to agent');
      }

      const outcome = await batcher.submit({
        message,
        id: storedText(message.id),
        mediaType,
        debounceMs: settings.DEBOUNCE_TIME,
      });
      if (typeof outcome !== 'string') throw outcome.error;
      if (outcome === 'duplicate') return answer('duplicate');
      log.debug({ contactId: message.contactId, messageId: message.id, mediaType }, 'message queued');
      return answer('queued');
    },
  };
}

// node-postgres sends text as UTF-8, which turns a lone surrogate into U+FFFD: "\ud800" and
// "\udc00" are one id to PostgreSQL, and RETURNING answers "\ufffd". Matching on the same
// conversion keeps "queued" and "duplicate" exact for such ids.
function storedText(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

function ticketIdOf(message: WebhookMessage): number | null {
  return message.ticketId ?? message.ticket?.id ?? null;
}

// GOSAC marks a human agent's ticket with the agent's user id; 0 is not a user.
function isAssigned(message: WebhookMessage): boolean {
  const userId = message.ticket?.userId;
  return userId !== null && userId !== undefined && userId !== 0;
}
