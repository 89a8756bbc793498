import type { CoreDeps } from '../app-deps.js';
import { PROCESS_CONTACT_JOB_FROM_ITEM } from '../jobs/job-queue.js';
import { describeIssues } from '../shared/errors.js';
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

export function createIntakeService(deps: CoreDeps): IntakeService {
  const log = deps.logger.child({ component: 'intake' });

  // One statement, so atomic on its own: the row and its job commit together or not at all.
  async function storeAndQueue(message: WebhookMessage, mediaType: string, debounceMs: number): Promise<boolean> {
    const inserted = await deps.db.raw(
      `WITH inserted AS (
         INSERT INTO message_history
           (contact_id, ticket_id, direction, body, media_type, media_url, media_path,
            contact_name, contact_number, gosac_message_id, status)
         VALUES (?, ?, 'inbound', ?, ?, ?, ?, ?, ?, ?, 'received')
         ON CONFLICT (gosac_message_id) DO NOTHING
         RETURNING id, contact_id
       )
       SELECT inserted.id FROM inserted CROSS JOIN LATERAL ${PROCESS_CONTACT_JOB_FROM_ITEM} AS job`,
      [
        message.contactId,
        ticketIdOf(message),
        message.body,
        mediaType,
        message.mediaUrl,
        message.mediaPath,
        message.contact?.name ?? null,
        message.contact?.number ?? null,
        message.id,
        debounceMs,
      ],
    );
    return (inserted as { rows: unknown[] }).rows.length > 0;
  }

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

      if (message.fromMe) return answer('ignored - from bot');
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

      const stored = await storeAndQueue(message, mediaType, settings.DEBOUNCE_TIME);
      if (!stored) return answer('duplicate');
      log.debug({ contactId: message.contactId, messageId: message.id, mediaType }, 'message queued');
      return answer('queued');
    },
  };
}

function ticketIdOf(message: WebhookMessage): number | null {
  return message.ticketId ?? message.ticket?.id ?? null;
}

// GOSAC marks a human agent's ticket with the agent's user id; 0 is not a user.
function isAssigned(message: WebhookMessage): boolean {
  const userId = message.ticket?.userId;
  return userId !== null && userId !== undefined && userId !== 0;
}
